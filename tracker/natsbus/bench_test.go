package natsbus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tabswarm/internal/figure"
	"tabswarm/signaling"
)

// Benchmark sizes: pairs of peers, how long each measurement runs, the
// paced rate the latency is measured at, and the size of each SDP (a real
// offer from Chromium is about 900 bytes).
const (
	benchPairs    = 16
	benchWindow   = 3 * time.Second
	benchPaceRate = 5000 // relays per second, offers and answers together
	benchSDP      = 900
)

// sdpPad fills a benchmark SDP out to benchSDP bytes.
var sdpPad = strings.Repeat("a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\r\n", benchSDP/60)

// BenchmarkClusterRelay measures relays through two tracker nodes, each
// its own process routed to the other over embedded NATS on loopback:
// with both peers of every pair on one node, and with the pairs split
// across the nodes. It prints relays per second (closed loop), the
// trackers' CPU per relay, and each relay's one-way latency at a paced
// 5,000 relays/s (p50, p99) and what crossing nodes adds, and the
// trackers' CPU per relay at that paced rate too: a closed loop runs
// same-node relays twice as fast as cross-node ones, and a busier process
// spends less per relay, so the paced figure compares equal loads. Every
// SDP is benchSDP bytes. Run with
// -benchtime 1x; the figures are medians of figure.Runs() runs.
func BenchmarkClusterRelay(b *testing.B) {
	a := startProcNode(b)
	c := startProcNode(b, "nats-route://"+a.cluster)
	for _, n := range []*procNode{a, c} {
		awaitNodes(b, n, 2)
	}
	same := newPairs(b, a, a)
	cross := newPairs(b, a, c)

	rate := map[string]*figure.Figure{}
	cpu := map[string]*figure.Figure{}
	pacedCPU := map[string]*figure.Figure{}
	p50 := map[string]*figure.Figure{}
	p99 := map[string]*figure.Figure{}
	added50 := figure.New("cross-node relay added latency p50 at 5000 relays/s", "ms")
	added99 := figure.New("cross-node relay added latency p99 at 5000 relays/s", "ms")
	for _, mode := range []string{"same-node", "cross-node"} {
		rate[mode] = figure.New("relays/s "+mode+" (16 pairs, closed loop)", "relays/s")
		cpu[mode] = figure.New("tracker CPU per relay "+mode+" (both nodes, closed loop)", "µs")
		pacedCPU[mode] = figure.New("tracker CPU per relay "+mode+" (both nodes) at 5000 relays/s", "µs")
		p50[mode] = figure.New("relay latency p50 "+mode+" at 5000 relays/s", "ms")
		p99[mode] = figure.New("relay latency p99 "+mode+" at 5000 relays/s", "ms")
	}
	for b.Loop() {
		for range figure.Runs() {
			var lat50, lat99 [2]float64
			for i, mode := range []string{"same-node", "cross-node"} {
				ps := map[string]*pairs{"same-node": same, "cross-node": cross}[mode]
				before := a.cpu(b) + c.cpu(b)
				n := ps.closedLoop(benchWindow)
				used := a.cpu(b) + c.cpu(b) - before
				rate[mode].Add(float64(n) / benchWindow.Seconds())
				cpu[mode].Add(float64(used.Microseconds()) / float64(n))
				before = a.cpu(b) + c.cpu(b)
				lats := ps.paced(benchWindow, benchPaceRate)
				used = a.cpu(b) + c.cpu(b) - before
				pacedCPU[mode].Add(float64(used.Microseconds()) / float64(len(lats)))
				lat50[i], lat99[i] = quantile(lats, 0.50), quantile(lats, 0.99)
				p50[mode].Add(lat50[i])
				p99[mode].Add(lat99[i])
			}
			added50.Add(lat50[1] - lat50[0])
			added99.Add(lat99[1] - lat99[0])
		}
	}
	for _, mode := range []string{"same-node", "cross-node"} {
		rate[mode].Print()
		cpu[mode].Print()
		pacedCPU[mode].Print()
		p50[mode].Print()
		p99[mode].Print()
	}
	added50.Print()
	added99.Print()
	figure.PrintRatio("cross-node / same-node tracker CPU per relay, closed loop", cpu["cross-node"].Median(), cpu["same-node"].Name(), "<= 2")
	figure.PrintRatio("cross-node / same-node tracker CPU per relay at 5000 relays/s", pacedCPU["cross-node"].Median(), pacedCPU["same-node"].Name(), "<= 2")
}

// awaitNodes waits until n's statistics count want nodes.
func awaitNodes(b *testing.B, n *procNode, want int) {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(n.base + "/api/stats")
		if err != nil {
			b.Fatal(err)
		}
		var st struct {
			Nodes int `json:"nodes"`
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if json.Unmarshal(body, &st) == nil && st.Nodes == want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s sees %d nodes after 20s, want %d", n.base, st.Nodes, want)
		}
	}
}

// pairs are benchPairs offerers on one node and as many answerers on
// another (or the same), all in one swarm.
type pairs struct {
	f        testFile
	offerers []*client
	answerer []*client
}

func newPairs(b *testing.B, from, to *procNode) *pairs {
	b.Helper()
	ps := &pairs{f: newFile(b)}
	var ids []string
	for range benchPairs {
		o := connect(b, from.base)
		o.ok(ps.f.announce(true))
		ps.offerers = append(ps.offerers, o)
		ids = append(ids, o.id)
	}
	for range benchPairs {
		a := connect(b, to.base)
		a.find(ps.f, ids...)
		ps.answerer = append(ps.answerer, a)
	}
	return ps
}

// sendSignal sends a signal carrying sdp without waiting for a reply
// (errors arrive as messages). It panics when the connection is down: a
// benchmark goroutine cannot fail the benchmark, and must not hang it.
func (c *client) sendSignal(to string, f testFile, kind signaling.SignalKind, session, sdp string) {
	m := signal(to, f, kind, session)
	m.Signal.SDP = sdp
	if err := c.c.Send(context.Background(), m); err != nil {
		panic(err)
	}
}

// expect returns c's next message, a relayed signal, or panics.
func (c *client) expect() signaling.Message {
	m, err := nextSignal(c)
	if err != nil {
		panic(fmt.Sprintf("peer %s: %v", c.id, err))
	}
	return m
}

// closedLoop has every pair exchange offers and answers, each waiting for
// the last, for d; it returns the relays done.
func (ps *pairs) closedLoop(d time.Duration) int {
	var wg sync.WaitGroup
	counts := make([]int, len(ps.offerers))
	end := time.Now().Add(d)
	for p := range ps.offerers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rounds, err := exchange(ps.offerers[p], ps.answerer[p], ps.f, math.MaxInt, end, sdpPad)
			if err != nil {
				panic(err)
			}
			counts[p] = 2 * rounds
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// paced sends offers at rate/2 a second, spread over the pairs, for d; the
// answerer answers each at once. It returns every relay's one-way latency
// in milliseconds, offers and answers (the SDP carries the send time).
func (ps *pairs) paced(d time.Duration, rate int) []float64 {
	var mu sync.Mutex
	var lats []float64
	record := func(m signaling.Message) {
		stamp, _, _ := strings.Cut(m.Signal.SDP, " ")
		sent, err := strconv.ParseInt(stamp, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("SDP %q", m.Signal.SDP))
		}
		mu.Lock()
		lats = append(lats, float64(time.Now().UnixNano()-sent)/1e6)
		mu.Unlock()
	}
	now := func() string { return strconv.FormatInt(time.Now().UnixNano(), 10) + " " + sdpPad }
	interval := time.Duration(len(ps.offerers)) * time.Second * 2 / time.Duration(rate)
	n := int(d / interval)
	var wg sync.WaitGroup
	for p := range ps.offerers {
		o, a := ps.offerers[p], ps.answerer[p]
		wg.Add(3)
		go func() { // offerer: sends on a clock
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for i := range n {
				<-tick.C
				o.sendSignal(a.id, ps.f, signaling.SignalOffer, "s"+strconv.Itoa(i), now())
			}
		}()
		go func() { // answerer: answers each offer at once
			defer wg.Done()
			for range n {
				m := a.expect()
				record(m)
				a.sendSignal(o.id, ps.f, signaling.SignalAnswer, m.Signal.Session, now())
			}
		}()
		go func() { // offerer: takes the answers
			defer wg.Done()
			for range n {
				record(o.expect())
			}
		}()
	}
	wg.Wait()
	return lats
}

// quantile returns the q-quantile of vals.
func quantile(vals []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(vals))
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
