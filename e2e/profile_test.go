package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// profileProbe records each tab's JS and wasm CPU profile, sampled every
// 200 µs, and reports the functions with the most self and inclusive time.
func profileProbe(t *testing.T, tabs []*person) func() string {
	for _, p := range tabs {
		if _, err := chromedp.Call(p.ctx, profiler.Enable, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(p.ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(p.ctx, profiler.Start, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	return func() string {
		var b strings.Builder
		for _, p := range tabs {
			res, err := chromedp.Call(p.ctx, profiler.Stop, cdp.Empty{})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "\n== %s\n%s", p.name, summarizeProfile(res.Profile, 30))
		}
		return b.String()
	}
}

// summarizeProfile lists the self time of each part of the tab (Go
// package, script, the browser's own functions), then the functions with
// the most self time, then with the most inclusive time: each sample
// counts once for every distinct function on its stack.
func summarizeProfile(p *profiler.Profile, n int) string {
	names := map[int64]string{}
	parts := map[int64]string{}
	parent := map[int64]int64{}
	for _, node := range p.Nodes {
		cf := node.CallFrame
		url := cf.URL[strings.LastIndex(cf.URL, "/")+1:]
		names[node.ID] = fmt.Sprintf("%s (%s)", cf.FunctionName, url)
		parts[node.ID] = profilePart(cf.FunctionName, url)
		for _, c := range node.Children {
			parent[c] = node.ID
		}
	}
	self, incl, byPart := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for i, id := range p.Samples {
		if i >= len(p.TimeDeltas) {
			break
		}
		dt := float64(p.TimeDeltas[i]) / 1e6
		self[names[id]] += dt
		byPart[parts[id]] += dt
		seen := map[string]bool{}
		for n, ok := id, true; ok; n, ok = parent[n] {
			if name := names[n]; !seen[name] {
				seen[name] = true
				incl[name] += dt
			}
		}
	}
	return topN("self, by part:", byPart, n) + topN("self:", self, n) + topN("inclusive:", incl, 2*n)
}

// profilePart names the part of the tab a function belongs to: its Go
// package (the wasm module's names are package.function, with / spelt _),
// its script, or the browser's own functions and states.
func profilePart(fn, url string) string {
	switch {
	case strings.HasSuffix(url, ".wasm") && strings.Contains(fn, "."):
		return "go " + fn[:strings.Index(fn, ".")]
	case url != "":
		return url
	case strings.HasPrefix(fn, "("):
		return fn
	}
	return "browser builtins"
}
