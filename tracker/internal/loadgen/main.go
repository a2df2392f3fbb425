// Command loadgen measures the tracker under load, for issue 6: N
// concurrent WebSocket clients in pairs, each pair in its own swarm. Per
// round it times an announce phase (every client announces at once and
// waits for the ok, so latency there is mostly queueing behind N requests),
// a relay phase at full tilt (each pair bounces offer and answer signals
// through the tracker, one in flight per pair, so latency there is N/2
// signals of queueing by construction) and a relay phase paced at
// -relay-rate, open loop (offers go out on the clock whether or not the
// tracker keeps up; the rate printed is the one achieved). It prints
// announces/s, relayed signals/s, their p50 and p99 latency, the CPU time
// per relayed signal of the tracker and of the clients, and the tracker's
// memory and goroutines per connection. Figures are the median of the
// rounds, with min and max.
//
// The tracker runs in a child process (this binary with -serve), so that
// its RSS, heap, stacks and CPU time are its own; the clients share the
// machine's CPUs with it, so on a small machine the latencies include
// waiting for a CPU (the CPU time per signal does not). Everything is on
// loopback: the clients dial 127.0.0.1 from many 127.1.x.y source
// addresses, at most -per-addr each, to stay under the tracker's
// per-address connection cap. Raise the open file limit to over N (ulimit
// -n) first.
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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tabswarm/internal/figure"
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
	var prof profiles
	flag.StringVar(&prof.heap, "heapprofile", "", "write the tracker's heap profile, taken with every client connected, to `file`")
	flag.StringVar(&prof.cpu, "cpuprofile", "", "write the tracker's CPU profile, over the whole run, to `file`")
	clientProfile := flag.String("clientcpuprofile", "", "write the clients' CPU profile, over the whole run, to `file`")
	child := flag.Bool("serve", false, "internal: be the tracker under test")
	flag.Parse()
	var err error
	switch {
	case *child:
		err = serveChild(*n, prof)
	default:
		var stop func()
		if stop, err = startCPUProfile(*clientProfile); err == nil {
			err = run(*n+*n%2, *rounds, *announces, *relayFor, *relayRate, *perAddr, prof)
			stop()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(n, rounds, announces int, relayFor time.Duration, relayRate, perAddr int, prof profiles) error {
	ctx := context.Background()
	tr, err := startChild(n, prof)
	if err != nil {
		return err
	}
	defer tr.stop()
	base := tr.memory()
	fmt.Printf("machine: %d CPUs, load average %s\n", runtime.NumCPU(), loadAverage())

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
	figs := map[string]*figure.Figure{}
	var order []*figure.Figure // as first measured, the order they print in
	fig := func(what, unit string) *figure.Figure {
		if figs[what] == nil {
			figs[what] = figure.New(name+" "+what, unit)
			order = append(order, figs[what])
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
		fig("announces", "/s").Add(float64(len(all)) / took.Seconds())
		fig("announce p50", "ms").Add(pct(all, 50))
		fig("announce p99", "ms").Add(pct(all, 99))
		m := tr.memory()

		// Relay phase at full tilt: each pair keeps one signal in flight,
		// the answerer answering every offer and the offerer offering
		// again on every answer.
		cpu, self := tr.cpu(), processCPU("self")
		relayed, rl := relayPhase(relay, relayFor, func() {
			relay.on.Store(true)
			for _, c := range clients {
				if c.offers {
					c.offer(ctx)
				}
			}
		}, clients)
		fig("relayed signals, max", "/s").Add(relayed)
		fig("relay p50 at max", "ms").Add(pct(rl, 50))
		fig("relay p99 at max", "ms").Add(pct(rl, 99))
		fig("tracker CPU per relayed signal at max", "µs").Add(perSignal(tr.cpu()-cpu, rl))
		fig("clients' CPU per relayed signal at max", "µs").Add(perSignal(processCPU("self")-self, rl))

		// Relay phase at a paced rate: offers go out on a clock, spread
		// over the pairs, and each is answered, for relayRate signals/s.
		cpu, self = tr.cpu(), processCPU("self")
		relayed, rl = relayPhase(relay, relayFor, func() { go pace(ctx, clients, relayRate, relayFor) }, clients)
		trackerCPU, clientsCPU := perSignal(tr.cpu()-cpu, rl), perSignal(processCPU("self")-self, rl)
		fig(fmt.Sprintf("relayed signals, paced at %d/s", relayRate), "/s").Add(relayed)
		fig(fmt.Sprintf("relay p50 at %d/s", relayRate), "ms").Add(pct(rl, 50))
		fig(fmt.Sprintf("relay p99 at %d/s", relayRate), "ms").Add(pct(rl, 99))
		fig(fmt.Sprintf("tracker CPU per relayed signal at %d/s", relayRate), "µs").Add(trackerCPU)
		fig(fmt.Sprintf("clients' CPU per relayed signal at %d/s", relayRate), "µs").Add(clientsCPU)

		// Memory, as it was with every client connected and announced.
		fig("memory per connection (RSS)", "KB").Add(float64(m.rss-base.rss) / float64(n) / 1e3)
		fig("memory per connection (heap in use)", "KB").Add(float64(m.heap-base.heap) / float64(n) / 1e3)
		fig("memory per connection (goroutine stacks)", "KB").Add(float64(m.stacks-base.stacks) / float64(n) / 1e3)
		fig("goroutines", "per connection").Add(float64(m.goroutines-base.goroutines) / float64(n))
	}
	for _, f := range order {
		fmt.Println(f)
	}
	fmt.Println("load average at the end:", loadAverage())
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

// pace offers signals for d at rate relayed signals per second, offers
// and their answers together. It is open loop and smooth: 8 goroutines each
// take every 8th pair in turn and, every millisecond, send the offers the
// clock says are due since the start, so that a stall is caught up rather
// than skipped (the offered load stays rate however the tracker keeps up)
// and no burst is larger than a millisecond's share. What is achieved is
// counted where the signals arrive.
func pace(ctx context.Context, clients []*client, rate int, d time.Duration) {
	const senders = 8
	perSender := float64(rate) / 2 / senders // offers per second
	start := time.Now()
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			next := 2 * g
			for sent := 0; ; <-t.C {
				elapsed := min(time.Since(start), d)
				for due := int(perSender * elapsed.Seconds()); sent < due; sent++ {
					clients[next].offer(ctx)
					if next += 2 * senders; next >= len(clients) {
						next = 2 * g
					}
				}
				if elapsed == d {
					return
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

// perSignal returns cpu per relayed signal in microseconds; lat has one
// entry per signal.
func perSignal(cpu time.Duration, lat []time.Duration) float64 {
	return float64(cpu) / float64(len(lat)) / 1e3
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

func startChild(n int, prof profiles) (*trackerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-n", strconv.Itoa(n), "-heapprofile", prof.heap, "-cpuprofile", prof.cpu)
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

// trackerMemory is what the tracker child process holds.
type trackerMemory struct {
	rss        int64 // resident set, from /proc
	heap       int64 // Go heap in use, from its /metrics
	stacks     int64 // goroutine stacks in use, likewise
	goroutines int64
}

// memory returns the child's memory. Everything in it is the tracker's
// (and the Go runtime's baseline): the clients are in this process.
func (t *trackerProc) memory() trackerMemory {
	var m trackerMemory
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid)); err == nil {
		for l := range strings.Lines(string(b)) {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.rss = kb << 10
			}
		}
	}
	resp, err := http.Get("http://" + t.addr + "/metrics")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	metrics := map[string]*int64{
		"go_memstats_heap_inuse_bytes":  &m.heap,
		"go_memstats_stack_inuse_bytes": &m.stacks,
		"go_goroutines":                 &m.goroutines,
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, v, ok := strings.Cut(sc.Text(), " "); ok && metrics[name] != nil {
			f, _ := strconv.ParseFloat(v, 64)
			*metrics[name] = int64(f)
		}
	}
	return m
}

// cpu returns the CPU time the child has used.
func (t *trackerProc) cpu() time.Duration { return processCPU(strconv.Itoa(t.cmd.Process.Pid)) }

// processCPU returns the CPU time, user and system, that process pid
// ("self" for this one) has used (0 if /proc cannot tell).
func processCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which ends with the last ')':
	// utime and stime are the 12th and 13th, in clock ticks (100 a second).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+sys) * (time.Second / 100)
}

// loadAverage returns the machine's 1, 5 and 15 minute load averages, as
// /proc/loadavg has them: the tracker and the clients share the machine's
// CPUs with whatever else runs.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
