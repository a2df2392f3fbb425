package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tabswarm/internal/figure"
	"tabswarm/signaling"
	"tabswarm/swarm"
	"tabswarm/swarm/rtc"
)

// BenchmarkCluster prints issue 11's process-level figures, with
// `tabswarm serve` processes (bin/tabswarm) on 127.0.0.1: how long after a
// node's SIGKILL its peers are all findable again, and the memory a node
// spends per connected peer with the cluster on and off. Run it once,
// after make build:
//
//	go test -run '^$' -bench Cluster -benchtime 1x -timeout 15m ./e2e
func BenchmarkCluster(b *testing.B) {
	b.Run("kill-recovery", benchKillRecovery)
	b.Run("memory", benchClusterMemory)
}

// Sizes of the cluster benchmarks.
const (
	recoveryPeers = 90   // native peers, spread over three nodes
	memoryPeers   = 2000 // WebSocket clients on the node measured
)

// benchFlags lift a node's per-address caps: every client here comes from
// 127.0.0.1.
var benchFlags = []string{"--max-conns-per-ip", "100000", "--max-peers", "100000", "--http-rate", "10000000"}

// benchKillRecovery runs recoveryPeers native peers (swarm.Node, one
// small file each) through the balancer of a three-node cluster, SIGKILLs
// one node, and times until every file of that node's peers lists its
// holder again (reconnected, through the balancer, to a node alive), and
// until no node lists a peer of the dead one.
func benchKillRecovery(b *testing.B) {
	name := fmt.Sprintf("cluster node kill, %d peers on three nodes", recoveryPeers)
	findable := figure.New(name+": until its peers are all findable again", "s")
	gone := figure.New(name+": until no node lists its peers", "s")
	for run := range figure.Runs() {
		f, g := killRecoveryRun(b, run)
		findable.Add(f.Seconds())
		gone.Add(g.Seconds())
	}
	findable.Print()
	fmt.Println("  (target < 10 s)")
	gone.Print()
}

// killRecoveryRun is one run of benchKillRecovery on a fresh cluster.
func killRecoveryRun(b *testing.B, run int) (findable, gone time.Duration) {
	c := startCluster(b, nil, 3, benchFlags...)
	defer c.stop()
	ctx, cancel := context.WithCancel(context.Background())
	peers := startNativePeers(ctx, b, "ws://"+c.lb.addr+"/ws", recoveryPeers, run)
	defer func() {
		cancel()
		for _, p := range peers {
			<-p.done
		}
	}()
	for _, p := range peers {
		c.waitHolders(b, p.digest, []string{p.node.PeerID()}, nil)
	}

	dead := c.nodes[0]
	var victims []*nativePeer
	for _, p := range peers {
		if c.nodeOf(b, p.node.PeerID()) == dead {
			victims = append(victims, p)
		}
	}
	if len(victims) == 0 {
		b.Fatalf("no peer is on %s: the balancer did not spread them", dead.name)
	}
	killed := time.Now()
	dead.kill(b)

	// Findable: each victim's file lists the victim under an ID on a live
	// node. Gone: no file lists an ID of the dead node.
	var last string
	err := poll(ctx, time.Minute, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
		stale := false
		for _, p := range victims {
			ids, err := holdersAt(ctx, c.lb.addr, p.digest)
			if err != nil {
				return false, err
			}
			now := p.node.PeerID()
			found := false
			for _, id := range ids {
				if c.nodeOf(b, id) == dead {
					stale = true
				} else if id == now {
					found = true
				}
			}
			if !found {
				last = fmt.Sprintf("%s lists %q, not its holder %s", p.digest, ids, now)
				return false, nil
			}
		}
		if findable == 0 {
			findable = time.Since(killed)
		}
		last = "a peer of the dead node is still listed"
		return !stale, nil
	})
	if err != nil {
		b.Fatalf("after killing %s (%d of %d peers on it): %v; last: %s", dead.name, len(victims), len(peers), err, last)
	}
	return findable, time.Since(killed)
}

// nativePeer is an in-process native peer seeding one small file of its own.
type nativePeer struct {
	node   *swarm.Node
	digest string
	done   chan struct{} // closed when Run returns
}

// startNativePeers starts n native peers against tracker, each seeding a
// one-chunk file of its own, and returns once every one is connected; they
// run until ctx is done.
func startNativePeers(ctx context.Context, tb testing.TB, tracker string, n, run int) []*nativePeer {
	tb.Helper()
	peers := make([]*nativePeer, n)
	for i := range peers {
		body := []byte(fmt.Sprintf("cluster bench run %d peer %d", run, i))
		m := swarm.NewManifest(fmt.Sprintf("peer-%d.txt", i), "text/plain", int64(len(body)), []swarm.Hash{swarm.HashChunk(body)})
		lib := new(swarm.MemLibrary)
		store, err := lib.Open(ctx, m)
		if err != nil {
			tb.Fatal(err)
		}
		if err := store.WriteChunk(ctx, 0, body); err != nil {
			tb.Fatal(err)
		}
		p := &nativePeer{node: swarm.NewNode(swarm.Options{Connector: rtc.New(rtc.Options{Tracker: tracker}), Library: lib}), digest: m.Digest.String(), done: make(chan struct{})}
		go func() {
			defer close(p.done)
			p.node.Run(ctx)
		}()
		peers[i] = p
		wctx, cancel := context.WithTimeout(ctx, stepTimeout)
		err = p.node.WaitConnected(wctx)
		cancel()
		if err != nil {
			tb.Fatalf("native peer %d: %v", i, err)
		}
		if _, err := p.node.Add(ctx, m); err != nil {
			tb.Fatalf("native peer %d: %v", i, err)
		}
	}
	return peers
}

// benchClusterMemory connects memoryPeers WebSocket clients to one node,
// each announcing a file of its own, and prints the node's memory per
// connected peer: solo (no cluster flags), and as one node of three in a
// cluster, where the other nodes' growth per peer is printed too.
func benchClusterMemory(b *testing.B) {
	name := fmt.Sprintf("tracker memory per connected peer (%d peers, a swarm each)", memoryPeers)
	soloRSS := figure.New(name+", cluster off (RSS)", "KB")
	soloHeap := figure.New(name+", cluster off (heap in use)", "KB")
	onRSS := figure.New(name+", cluster on, the peers' node (RSS)", "KB")
	onHeap := figure.New(name+", cluster on, the peers' node (heap in use)", "KB")
	otherRSS := figure.New(name+", cluster on, each other node (RSS)", "KB")
	for run := range figure.Runs() {
		rss, heap, _ := memoryRun(b, startSolo(b, nil, benchFlags...), run)
		soloRSS.Add(rss)
		soloHeap.Add(heap)
		rss, heap, other := memoryRun(b, startCluster(b, nil, 3, benchFlags...), run)
		onRSS.Add(rss)
		onHeap.Add(heap)
		otherRSS.Add(other)
	}
	for _, f := range []*figure.Figure{soloRSS, soloHeap, onRSS, onHeap, otherRSS} {
		f.Print()
	}
	figure.PrintRatio("memory per peer (RSS), cluster on / off", onRSS.Median(), soloRSS.Name(), "none set")
}

// memoryRun connects memoryPeers clients to c's first node and returns, in
// KB per client, the growth of that node's RSS and heap in use, and the
// mean growth of the other nodes' RSS (0 without any); then it stops c.
func memoryRun(b *testing.B, c *cluster, run int) (rss, heap, otherRSS float64) {
	defer c.stop()
	node := c.nodes[0]
	before := make([]nodeMemory, len(c.nodes))
	for i, n := range c.nodes {
		before[i] = memoryOf(b, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conns := connectAnnouncers(ctx, b, "ws://"+node.addr+"/ws", memoryPeers, run)
	defer func() {
		for _, ws := range conns {
			ws.CloseNow()
		}
	}()
	time.Sleep(2 * time.Second) // the other nodes learn of the swarms
	per := func(a, z float64) float64 { return (z - a) / memoryPeers / 1e3 }
	after := memoryOf(b, node)
	rss, heap = per(before[0].rss, after.rss), per(before[0].heap, after.heap)
	for i, n := range c.nodes[1:] {
		otherRSS += per(before[i+1].rss, memoryOf(b, n).rss) / float64(len(c.nodes)-1)
	}
	return rss, heap, otherRSS
}

// connectAnnouncers dials n WebSocket clients to url, 64 at a time; each
// announces a one-chunk file of its own, with its manifest, and waits for
// the ok.
func connectAnnouncers(ctx context.Context, tb testing.TB, url string, n, run int) []*websocket.Conn {
	tb.Helper()
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ws, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = ws
			ws.SetReadLimit(1 << 20)
			var welcome signaling.Message
			if err := wsjson.Read(ctx, ws, &welcome); err != nil {
				errs <- err
				return
			}
			body := []byte(fmt.Sprintf("memory bench run %d client %d", run, i))
			m := swarm.NewManifest(fmt.Sprintf("client-%d.txt", i), "text/plain", int64(len(body)), []swarm.Hash{swarm.HashChunk(body)})
			reply, err := request(ctx, ws, signaling.Message{Type: signaling.TypeAnnounce, ID: 1, Digest: m.Digest.String(), Manifest: mustJSON(m), Have: 1, Complete: true})
			if err == nil && reply.Type != signaling.TypeOK {
				err = fmt.Errorf("announce answered %s: %+v", reply.Type, reply.Error)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		for _, ws := range conns {
			if ws != nil {
				ws.CloseNow()
			}
		}
		tb.Fatalf("connecting %d clients: %v", n, err)
	}
	return conns
}

// nodeMemory is what a node process holds, in bytes.
type nodeMemory struct{ rss, heap float64 }

// memoryOf reads n's resident memory from /proc and its Go heap in use
// from its /metrics, after asking for nothing else: the figures include
// garbage not yet collected, as a running tracker's do.
func memoryOf(tb testing.TB, n *clusterNode) nodeMemory {
	tb.Helper()
	m := nodeMemory{rss: procRSS(n.cmd.Process.Pid)}
	resp, err := http.Get("http://" + n.addr + "/metrics")
	if err != nil {
		tb.Fatalf("%s /metrics: %v", n.name, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			m.heap, _ = strconv.ParseFloat(v, 64)
		}
	}
	if m.rss == 0 || m.heap == 0 {
		tb.Fatalf("%s: no RSS or heap figure (%+v)", n.name, m)
	}
	return m
}
