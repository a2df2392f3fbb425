package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// TestTraceTabToTab records a Chromium performance trace of the whole
// browser during a 64 MiB tab-to-tab transfer and logs, per process and
// thread, the trace events with the most self time. It is a tool, not a
// check: set TABSWARM_TRACE=1 to run it.
func TestTraceTabToTab(t *testing.T) {
	if os.Getenv("TABSWARM_TRACE") == "" {
		t.Skip("set TABSWARM_TRACE=1 to trace a transfer")
	}
	const size = 64 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-64MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f.path)
	bob := e.newPerson(t, "bob", "/")

	var took time.Duration
	events := traceDuring(t, bob.ctx, func() { took = bob.get(t, f.digest, f.digest, size) })
	t.Logf("transfer: %.1f MB/s in %v, %d trace events", size/1e6/took.Seconds(), took, len(events))
	t.Log(summarizeTrace(events, 25))
}

// TestTraceCeiling traces the raw ceiling's plain-JS transfer of 64 MiB,
// for comparison with TestTraceTabToTab. Set TABSWARM_TRACE=1 to run it.
func TestTraceCeiling(t *testing.T) {
	if os.Getenv("TABSWARM_TRACE") == "" {
		t.Skip("set TABSWARM_TRACE=1 to trace a transfer")
	}
	const size = 64 << 20
	e := newEnv(t)
	page := serveCeiling(t)
	tx := e.newBlankPerson(t, "ceiling-tx")
	rx := e.newBlankPerson(t, "ceiling-rx")
	var ms float64
	var err error
	events := traceDuring(t, rx.ctx, func() { ms, err = ceilingRun(tx.ctx, rx.ctx, page, size) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transfer: %.1f MB/s, %d trace events", size/1e6/(ms/1e3), len(events))
	t.Log(summarizeTrace(events, 25))
}

// traceDuring records a trace of the whole browser of ctx while fn runs.
func traceDuring(t *testing.T, ctx context.Context, fn func()) []json.RawMessage {
	var (
		mu     sync.Mutex
		events []json.RawMessage
		done   = make(chan struct{})
	)
	if err := chromedp.ListenBrowser(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *tracing.EventDataCollected:
			mu.Lock()
			for _, v := range ev.Value {
				events = append(events, json.RawMessage(v))
			}
			mu.Unlock()
		case *tracing.EventTracingComplete:
			close(done)
		}
	}); err != nil {
		t.Fatal(err)
	}
	cats := []string{"toplevel", "blink", "v8", "devtools.timeline", "disabled-by-default-devtools.timeline",
		"webrtc", "IndexedDB", "Blob", "ipc", "mojom", "disabled-by-default-v8.gc", "sequence_manager"}
	if _, err := chromedp.CallBrowser(ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig:  &tracing.TraceConfig{IncludedCategories: cats, ExcludedCategories: []string{"*"}},
	}); err != nil {
		t.Fatal(err)
	}
	fn()
	if _, err := chromedp.CallBrowser(ctx, tracing.End, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	return events
}

type traceEvent struct {
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	Args map[string]any `json:"args"`
}

// summarizeTrace computes each complete event's self time (its duration
// less its direct children's) and lists, per busy thread, the names with
// the most self time.
func summarizeTrace(raw []json.RawMessage, n int) string {
	threadName := map[[2]int]string{}
	procName := map[int]string{}
	byThread := map[[2]int][]traceEvent{}
	for _, r := range raw {
		var ev traceEvent
		if json.Unmarshal(r, &ev) != nil {
			continue
		}
		key := [2]int{ev.Pid, ev.Tid}
		switch ev.Ph {
		case "M":
			name, _ := ev.Args["name"].(string)
			if ev.Name == "thread_name" {
				threadName[key] = name
			} else if ev.Name == "process_name" {
				procName[ev.Pid] = name
			} else if ev.Name == "process_labels" {
				if l, _ := ev.Args["labels"].(string); l != "" {
					procName[ev.Pid] += " " + l
				}
			}
		case "X":
			byThread[key] = append(byThread[key], ev)
		}
	}
	type stat struct {
		name string
		self float64
	}
	type thread struct {
		key   [2]int
		total float64
		top   []stat
	}
	var threads []thread
	for key, evs := range byThread {
		sort.Slice(evs, func(i, j int) bool {
			if evs[i].Ts != evs[j].Ts {
				return evs[i].Ts < evs[j].Ts
			}
			return evs[i].Dur > evs[j].Dur
		})
		self := map[string]float64{}
		var stack []int
		var total float64
		for i, ev := range evs {
			for len(stack) > 0 {
				top := evs[stack[len(stack)-1]]
				if ev.Ts < top.Ts+top.Dur {
					break
				}
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 {
				total += ev.Dur
			} else {
				self[evs[stack[len(stack)-1]].Name] -= ev.Dur
			}
			self[ev.Name] += ev.Dur
			stack = append(stack, i)
		}
		var top []stat
		for name, s := range self {
			top = append(top, stat{name, s})
		}
		sort.Slice(top, func(i, j int) bool { return top[i].self > top[j].self })
		threads = append(threads, thread{key, total, top})
	}
	sort.Slice(threads, func(i, j int) bool { return threads[i].total > threads[j].total })
	var b strings.Builder
	for i, th := range threads {
		if i == 8 {
			break
		}
		fmt.Fprintf(&b, "\n== pid %d %q thread %q: %.2fs busy\n", th.key[0], procName[th.key[0]], threadName[th.key], th.total/1e6)
		for j, s := range th.top {
			if j == n {
				break
			}
			fmt.Fprintf(&b, "%8.3fs %s\n", s.self/1e6, s.name)
		}
	}
	return b.String()
}

// TestTraceShare traces the whole browser while a tab shares 256 MiB. Set
// TABSWARM_TRACE=1 to run it.
func TestTraceShare(t *testing.T) {
	if os.Getenv("TABSWARM_TRACE") == "" {
		t.Skip("set TABSWARM_TRACE=1 to trace a share")
	}
	const size = 256 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-256MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	start := time.Now()
	events := traceDuring(t, alice.ctx, func() { alice.share(t, f.path) })
	t.Logf("share: %.1f MB/s, %d trace events", size/1e6/time.Since(start).Seconds(), len(events))
	t.Log(summarizeTrace(events, 25))
}
