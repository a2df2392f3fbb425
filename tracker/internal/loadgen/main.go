// Command loadgen measures the tracker under load, for issue 6: N
// concurrent WebSocket clients in pairs, each pair in its own swarm. Per
// round it times an announce phase (every client announces at once and
// waits for the ok, so latency there is mostly queueing behind N requests),
// a relay phase at full tilt (each pair bounces offer and answer signals
// through the tracker, one in flight per pair) and a relay phase paced at
// -relay-rate, and prints announces/s, relayed signals/s, their p50 and
// p99 latency, and the tracker's memory per connection. Figures are the median of the rounds, with min and max.
//
// The tracker runs in a child process (this binary with -serve), so that
// its RSS and heap are its own. Everything is on loopback: the clients dial
// 127.0.0.1 from many 127.1.x.y source addresses, at most -per-addr each,
// to stay under the tracker's per-address connection cap. Raise the open
// file limit to over N (ulimit -n) first.
//
//	go run ./tracker/internal/loadgen -n 10000
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

func main() {
	n := flag.Int("n", 10000, "concurrent WebSocket `clients` (rounded up to even)")
	rounds := flag.Int("rounds", 3, "measurement rounds")
	announces := flag.Int("announces", 3, "announces per client per round")
	relayFor := flag.Duration("relay", 5*time.Second, "length of each relay phase")
	relayRate := flag.Int("relay-rate", 20000, "relayed signals per `second` offered in the paced relay phase")
	perAddr := flag.Int("per-addr", 50, "connections per 127.1.x.y source address")
	heapProfile := flag.String("heapprofile", "", "write the tracker's heap profile, taken with every client connected, to `file`")
	child := flag.Bool("serve", false, "internal: be the tracker under test")
	flag.Parse()
	var err error
	if *child {
		err = serveChild(*n, *heapProfile)
	} else {
		err = run(*n+*n%2, *rounds, *announces, *relayFor, *relayRate, *perAddr, *heapProfile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(n, rounds, announces int, relayFor time.Duration, relayRate, perAddr int, heapProfile string) error {
	ctx := context.Background()
	tr, err := startChild(n, heapProfile)
	if err != nil {
		return err
	}
	defer tr.stop()
	baseRSS, baseHeap := tr.memory()

	// Connect, 256 dials at a time.
	relay := new(relayState)
	hcs := dialers(n, perAddr)
	clients := make([]*client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 256)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dial(ctx, hcs[i/perAddr], "ws://"+tr.addr+"/ws", relay)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("tracker: %d clients connected in %.1f s (%.0f/s)\n", n, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
	defer func() {
		tr.stop() // first, so that a heap profile sees every connection
		for _, c := range clients {
			c.ws.CloseNow()
		}
	}()
	for i := 0; i < n; i += 2 {
		d, man := pairManifest(i / 2)
		a, b := clients[i], clients[i+1]
		a.peer, b.peer, a.digest, b.digest, a.offers = b, a, d, d, true
		a.manifest, b.manifest = man, man
	}
	for _, c := range clients {
		go c.read(ctx)
	}

	name := fmt.Sprintf("tracker %d clients", n)
	figs := map[string]*figure{}
	fig := func(what, unit string) *figure {
		if figs[what] == nil {
			figs[what] = &figure{name: name + " " + what, unit: unit}
		}
		return figs[what]
	}
	for r := range rounds {
		// Announce phase.
		start := time.Now()
		lats := make([][]time.Duration, n)
		errs := make(chan error, n)
		for i, c := range clients {
			wg.Go(func() {
				for k := range announces {
					m := signaling.Message{Type: signaling.TypeAnnounce, ID: uint64(k + 1), Digest: c.digest, Have: k % 2}
					if r == 0 && k == 0 {
						m.Manifest = c.manifest
					}
					d, err := c.request(ctx, m)
					if err != nil {
						errs <- fmt.Errorf("announce: %w", err)
						return
					}
					lats[i] = append(lats[i], d)
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		all := slices.Concat(lats...)
		fig("announces", "/s").add(float64(len(all)) / took.Seconds())
		fig("announce p50", "ms").add(pct(all, 50))
		fig("announce p99", "ms").add(pct(all, 99))
		rss, heap := tr.memory()
		fig("memory per connection (RSS)", "KB").add(float64(rss-baseRSS) / float64(n) / 1e3)
		fig("memory per connection (heap in use)", "KB").add(float64(heap-baseHeap) / float64(n) / 1e3)

		// Relay phase at full tilt: each pair keeps one signal in flight,
		// the answerer answering every offer and the offerer offering
		// again on every answer.
		relayed, rl := relayPhase(relay, relayFor, func() {
			relay.on.Store(true)
			for _, c := range clients {
				if c.offers {
					c.offer(ctx)
				}
			}
		}, clients)
		fig("relayed signals, max", "/s").add(relayed)
		fig("relay p50 at max", "ms").add(pct(rl, 50))
		fig("relay p99 at max", "ms").add(pct(rl, 99))

		// Relay phase at a paced rate: offers go out on a clock, spread
		// over the pairs, and each is answered, for relayRate signals/s.
		relayed, rl = relayPhase(relay, relayFor, func() { go pace(ctx, clients, relayRate, relayFor) }, clients)
		fig(fmt.Sprintf("relayed signals, paced at %d/s", relayRate), "/s").add(relayed)
		fig(fmt.Sprintf("relay p50 at %d/s", relayRate), "ms").add(pct(rl, 50))
		fig(fmt.Sprintf("relay p99 at %d/s", relayRate), "ms").add(pct(rl, 99))
	}
	for _, k := range []string{"announces", "announce p50", "announce p99",
		"relayed signals, max", "relay p50 at max", "relay p99 at max",
		fmt.Sprintf("relayed signals, paced at %d/s", relayRate), fmt.Sprintf("relay p50 at %d/s", relayRate), fmt.Sprintf("relay p99 at %d/s", relayRate),
		"memory per connection (RSS)", "memory per connection (heap in use)"} {
		fmt.Println(figs[k])
	}
	fmt.Println("tracker targets at 10000 clients: >= 20000 relays/s, p99 < 20 ms, < 16 KB per connection")
	return nil
}

// relayPhase runs start, waits d, stops the offer chains and waits until
// no more signals arrive; it returns the relayed signals per second and
// their one-way latencies.
func relayPhase(relay *relayState, d time.Duration, start func(), clients []*client) (float64, []time.Duration) {
	relay.count.Store(0)
	begin := time.Now()
	start()
	time.Sleep(d)
	relay.on.Store(false)
	for before := int64(-1); before != relay.count.Load(); time.Sleep(500 * time.Millisecond) {
		before = relay.count.Load()
	}
	took := time.Unix(0, relay.last.Load()).Sub(begin)
	var lat []time.Duration
	for _, c := range clients {
		lat = append(lat, c.takeLatencies()...)
	}
	return float64(relay.count.Load()) / took.Seconds(), lat
}

// pace sends offers for d, from 8 goroutines that each take every 8th
// pair in turn, every 10 ms, so that offers and their answers together
// make rate relayed signals per second.
func pace(ctx context.Context, clients []*client, rate int, d time.Duration) {
	const senders, tick = 8, 10 * time.Millisecond
	perTick := float64(rate) / 2 / senders / float64(time.Second/tick)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			t := time.NewTicker(tick)
			defer t.Stop()
			var owed float64
			next := 2 * g
			for end := time.Now().Add(d); time.Now().Before(end); <-t.C {
				for owed += perTick; owed >= 1; owed-- {
					clients[next].offer(ctx)
					if next += 2 * senders; next >= len(clients) {
						next = 2 * g
					}
				}
			}
		})
	}
	wg.Wait()
}

// pairManifest returns the digest and manifest JSON of pair i's one-chunk
// file.
func pairManifest(i int) (string, json.RawMessage) {
	body := []byte("loadgen pair " + strconv.Itoa(i))
	m := swarm.NewManifest(fmt.Sprintf("pair-%d.bin", i), "", int64(len(body)), []swarm.Hash{swarm.HashChunk(body)})
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return m.Digest.String(), data
}

// pct returns the p-th percentile of ds in milliseconds.
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return float64(ds[(len(ds)-1)*p/100]) / 1e6
}

// trackerProc is the child process serving the tracker.
type trackerProc struct {
	cmd   *exec.Cmd
	stdin io.Closer
	addr  string
}

func startChild(n int, heapProfile string) (*trackerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-n", strconv.Itoa(n), "-heapprofile", heapProfile)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &trackerProc{cmd: cmd, stdin: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	if !strings.HasPrefix(line, "addr ") {
		t.stop()
		return nil, fmt.Errorf("tracker child printed %q (%v)", line, err)
	}
	t.addr = strings.TrimSpace(strings.TrimPrefix(line, "addr "))
	return t, nil
}

// stop ends the child: closing its stdin shuts the tracker down.
func (t *trackerProc) stop() {
	t.stdin.Close()
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}

// memory returns the child's resident set (from /proc) and Go heap in use
// (from its /metrics), in bytes.
func (t *trackerProc) memory() (rss, heap int64) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid)); err == nil {
		for l := range strings.Lines(string(b)) {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				rss = kb << 10
			}
		}
	}
	resp, err := http.Get("http://" + t.addr + "/metrics")
	if err != nil {
		return rss, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			heap = int64(f)
		}
	}
	return rss, heap
}

// figure is one quantity measured over rounds.
type figure struct {
	name, unit string
	vals       []float64
}

func (f *figure) add(v float64) { f.vals = append(f.vals, v) }

func (f *figure) String() string {
	s := slices.Sorted(slices.Values(f.vals))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("%s: median %s %s (min %s, max %s, %d runs)", f.name, num(med), f.unit, num(s[0]), num(s[len(s)-1]), len(s))
}

// num formats v with three significant digits, or none after the point
// from 100 on: 0.873, 12.3, 20417.
func num(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10 || v <= -10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
