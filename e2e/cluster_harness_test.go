package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tabswarm/signaling"
	"tabswarm/swarm"
	"tabswarm/tracker"
)

// cluster is several `tabswarm serve` processes (bin/tabswarm) routed
// together over embedded NATS on 127.0.0.1, and a balancer in front of them.
type cluster struct {
	nodes []*clusterNode
	lb    *balancer
}

// clusterNode is one `tabswarm serve` process of a cluster.
type clusterNode struct {
	*subproc
	addr string // its HTTP host:port on 127.0.0.1
	id   string // its node ID, which ends its peers' IDs
}

// serveURL matches the loopback URL serve prints once it listens.
var serveURL = regexp.MustCompile(`http://127\.0\.0\.1:(\d+)`)

// startCluster starts size nodes of one cluster on 127.0.0.1 (HTTP on a
// random port, NATS routes on free ports picked first, a shared cluster
// token) with extra serve flags, and a balancer in front; everything stops
// in tb's cleanup. lg, if not nil, gets each node's log.
func startCluster(tb testing.TB, lg *safeLog, size int, extra ...string) *cluster {
	tb.Helper()
	routes := make([]string, size)
	for i := range routes {
		routes[i] = freeLoopbackAddr(tb)
	}
	token := make([]byte, 16)
	rand.Read(token)
	env := []string{"TABSWARM_CLUSTER_TOKEN=" + hex.EncodeToString(token)}
	name := fmt.Sprintf("e2e-%d", os.Getpid())
	c := startNodes(tb, lg, size, func(i int) ([]string, []string) {
		var others []string
		for j, r := range routes {
			if j != i {
				others = append(others, "nats-route://"+r)
			}
		}
		return append([]string{
			"--cluster-listen", routes[i],
			"--cluster-routes", strings.Join(others, ","),
			"--cluster-name", name,
		}, extra...), env
	})
	c.waitMeshed(tb)
	return c
}

// waitMeshed waits until every node lists a peer of every other node: the
// routes come up some time after the nodes serve.
func (c *cluster) waitMeshed(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, n := range c.nodes {
		ws, id := dialNode(ctx, tb, n)
		body := []byte(fmt.Sprintf("mesh probe %d of %s", i, n.id))
		m := swarm.NewManifest("probe.txt", "text/plain", int64(len(body)), []swarm.Hash{swarm.HashChunk(body)})
		reply, err := request(ctx, ws, signaling.Message{Type: signaling.TypeAnnounce, ID: 1, Digest: m.Digest.String(), Manifest: mustJSON(m), Have: 1, Complete: true})
		if err != nil || reply.Type != signaling.TypeOK {
			tb.Fatalf("%s: announce a probe: %v %+v", n.name, err, reply.Error)
		}
		for _, o := range c.nodes {
			err := poll(ctx, time.Minute, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
				ids, err := holdersAt(ctx, o.addr, m.Digest.String())
				return slices.Contains(ids, id), err
			})
			if err != nil {
				tb.Fatalf("%s never lists the probe peer on %s: %v", o.name, n.name, err)
			}
		}
		ws.Close(websocket.StatusNormalClosure, "")
	}
}

// dialNode opens a WebSocket to n directly and returns it with the peer ID
// of its welcome.
func dialNode(ctx context.Context, tb testing.TB, n *clusterNode) (*websocket.Conn, string) {
	tb.Helper()
	ws, _, err := websocket.Dial(ctx, "ws://"+n.addr+"/ws", nil)
	if err != nil {
		tb.Fatalf("%s: %v", n.name, err)
	}
	var welcome signaling.Message
	if err := wsjson.Read(ctx, ws, &welcome); err != nil {
		ws.CloseNow()
		tb.Fatalf("%s: no welcome: %v", n.name, err)
	}
	return ws, welcome.PeerID
}

// startSolo starts one node with no cluster flags (extra serve flags
// only) and a balancer in front, like startCluster.
func startSolo(tb testing.TB, lg *safeLog, extra ...string) *cluster {
	tb.Helper()
	return startNodes(tb, lg, 1, func(int) ([]string, []string) { return extra, nil })
}

// startNodes starts size nodes, node i with the serve flags and
// environment flags(i) returns, and a balancer in front.
func startNodes(tb testing.TB, lg *safeLog, size int, flags func(i int) (args, env []string)) *cluster {
	tb.Helper()
	bin := builtBinary(tb)
	c := &cluster{}
	for i := range size {
		args, env := flags(i)
		args = append([]string{"serve", "--addr", "127.0.0.1:0", "--host", appHost}, args...)
		c.nodes = append(c.nodes, startNode(tb, lg, bin, fmt.Sprintf("node%d", i), args, env))
	}
	// Every node runs before any is awaited: a node may wait for its
	// routes before it serves.
	for _, n := range c.nodes {
		n.waitHealthy(tb)
	}
	c.lb = startBalancer(tb, c.nodes)
	return c
}

// builtBinary returns the path of bin/tabswarm, or fails: run make build.
func builtBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := filepath.Abs("../bin/tabswarm")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		tb.Fatalf("run make build first: %v", err)
	}
	return bin
}

// freeLoopbackAddr returns a 127.0.0.1 port that was free a moment ago.
func freeLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNode runs bin with args (a serve command on 127.0.0.1:0) and env
// added, and waits until it prints the URL it serves on; it is stopped in
// tb's cleanup if not before.
func startNode(tb testing.TB, lg *safeLog, bin, name string, args, env []string) *clusterNode {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var log io.Writer
	if lg != nil {
		log = lg.writer(name)
	}
	n := &clusterNode{subproc: startSubproc(tb, name, cmd, log)}
	m := serveURL.FindStringSubmatch(n.waitLine(tb, "http://127.0.0.1:", 30*time.Second))
	n.addr = "127.0.0.1:" + m[1]
	return n
}

// waitHealthy waits until n answers /healthz with 200, then learns its
// node ID.
func (n *clusterNode) waitHealthy(tb testing.TB) {
	tb.Helper()
	err := poll(context.Background(), time.Minute, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		if !n.alive() {
			return false, fmt.Errorf("exited: %s", n.cmd.ProcessState)
		}
		code, err := httpStatus(ctx, "http://"+n.addr+"/healthz")
		return code == http.StatusOK, err
	})
	if err != nil {
		tb.Fatalf("%s is not healthy: %v\n%s", n.name, err, n.tail.String())
	}
	n.learnNodeID(tb)
}

// stop stops every node and the balancer; they stop in tb's cleanup
// otherwise.
func (c *cluster) stop() {
	for _, n := range c.nodes {
		n.stop()
	}
	c.lb.stop()
}

// nodeOf returns the node that peer ID id is on: the one whose ID ends
// it. It fails tb for an ID of no node of c.
func (c *cluster) nodeOf(tb testing.TB, id string) *clusterNode {
	tb.Helper()
	for _, n := range c.nodes {
		if strings.HasSuffix(id, n.id) {
			return n
		}
	}
	tb.Fatalf("peer ID %q is of no node of the cluster", id)
	return nil
}

// learnNodeID sets n.id: the end of the peer ID n gives a WebSocket.
func (n *clusterNode) learnNodeID(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	ws, id := dialNode(ctx, tb, n)
	ws.Close(websocket.StatusNormalClosure, "")
	if len(id) <= tracker.NodeIDLen {
		tb.Fatalf("%s: peer ID %q names no node", n.name, id)
	}
	n.id = id[len(id)-tracker.NodeIDLen:]
}
