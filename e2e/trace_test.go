package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// traceProbe records a Chromium performance trace of the whole browser and
// reports, per busy thread, the events with the most self time.
func traceProbe(t *testing.T, tabs []*person) func() string {
	cats := []string{"toplevel", "blink", "v8", "devtools.timeline", "disabled-by-default-devtools.timeline",
		"webrtc", "IndexedDB", "Blob", "ipc", "mojom", "disabled-by-default-v8.gc", "sequence_manager"}
	end, err := startTrace(tabs[0].ctx, true, cats)
	if err != nil {
		t.Fatal(err)
	}
	return func() string {
		events, err := end()
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d trace events\n%s", len(events), summarizeTrace(events, 25))
	}
}

// startTrace starts a Chromium trace of the categories cats on the
// browser's DevTools session (browser) or on the session of ctx's tab,
// and returns the function that ends it and returns its events.
func startTrace(ctx context.Context, browser bool, cats []string) (end func() ([]json.RawMessage, error), err error) {
	ctx, cancel := context.WithCancel(ctx) // the listener ends with the trace
	var (
		mu     sync.Mutex
		events []json.RawMessage
		done   = make(chan struct{})
	)
	listen, call := chromedp.Listen, chromedp.Call[tracing.StartParams, cdp.Empty]
	if browser {
		listen, call = chromedp.ListenBrowser, chromedp.CallBrowser[tracing.StartParams, cdp.Empty]
	}
	if err := listen(ctx, func(ev any) {
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
		cancel()
		return nil, err
	}
	if _, err := call(ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig:  &tracing.TraceConfig{IncludedCategories: cats, ExcludedCategories: []string{"*"}},
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("start a trace: %w", err)
	}
	return func() ([]json.RawMessage, error) {
		defer cancel()
		endCall := chromedp.Call[cdp.Empty, cdp.Empty]
		if browser {
			endCall = chromedp.CallBrowser[cdp.Empty, cdp.Empty]
		}
		if _, err := endCall(ctx, tracing.End, cdp.Empty{}); err != nil {
			return nil, fmt.Errorf("end the trace: %w", err)
		}
		select {
		case <-done:
		case <-time.After(stepTimeout):
			return nil, fmt.Errorf("the trace did not complete within %v", stepTimeout)
		}
		mu.Lock()
		defer mu.Unlock()
		return events, nil
	}, nil
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
	type thread struct {
		key   [2]int
		total float64
		self  map[string]float64 // seconds
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
		for name := range self {
			self[name] /= 1e6
		}
		threads = append(threads, thread{key, total, self})
	}
	sort.Slice(threads, func(i, j int) bool { return threads[i].total > threads[j].total })
	var b strings.Builder
	for i, th := range threads {
		if i == 8 {
			break
		}
		b.WriteString(topN(fmt.Sprintf("\n== pid %d %q thread %q: %.2fs busy", th.key[0], procName[th.key[0]], threadName[th.key], th.total/1e6), th.self, n))
	}
	return b.String()
}
