package e2e

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// TestProfileTabToTab records the JS/wasm CPU profile of both tabs during a
// 64 MiB transfer and logs where their time goes. It is a tool, not a
// check: set TABSWARM_PROFILE=1 to run it (build the wasm without -s -w to
// keep function names).
func TestProfileTabToTab(t *testing.T) {
	if os.Getenv("TABSWARM_PROFILE") == "" {
		t.Skip("set TABSWARM_PROFILE=1 to profile a transfer")
	}
	const size = 64 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-64MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f.path)
	bob := e.newPerson(t, "bob", "/")
	for _, p := range []*person{alice, bob} {
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
	took := bob.get(t, f.digest, f.digest, size)
	t.Logf("transfer: %.1f MB/s", size/1e6/took.Seconds())
	for _, p := range []*person{alice, bob} {
		res, err := chromedp.Call(p.ctx, profiler.Stop, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", p.name, summarize(res.Profile, 30))
	}
}

// summarize lists the functions with the most self time.
func summarize(p *profiler.Profile, n int) string {
	names := map[int64]string{}
	for _, node := range p.Nodes {
		cf := node.CallFrame
		url := cf.URL[strings.LastIndex(cf.URL, "/")+1:]
		names[node.ID] = fmt.Sprintf("%s (%s)", cf.FunctionName, url)
	}
	self := map[string]int64{}
	var total int64
	for i, id := range p.Samples {
		if i < len(p.TimeDeltas) {
			self[names[id]] += p.TimeDeltas[i]
			total += p.TimeDeltas[i]
		}
	}
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range self {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var b strings.Builder
	fmt.Fprintf(&b, "total %.2fs\n", float64(total)/1e6)
	for i := 0; i < n && i < len(all); i++ {
		fmt.Fprintf(&b, "%6.1f%% %s\n", 100*float64(all[i].v)/float64(total), all[i].k)
	}
	// Inclusive time: each sample counts once for every distinct function
	// on its stack.
	parent := map[int64]int64{}
	for _, node := range p.Nodes {
		for _, c := range node.Children {
			parent[c] = node.ID
		}
	}
	incl := map[string]int64{}
	for i, id := range p.Samples {
		if i >= len(p.TimeDeltas) {
			break
		}
		seen := map[string]bool{}
		for n, ok := id, true; ok; n, ok = parent[n] {
			if name := names[n]; !seen[name] {
				seen[name] = true
				incl[name] += p.TimeDeltas[i]
			}
		}
	}
	all = all[:0]
	for k, v := range incl {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	fmt.Fprintf(&b, "inclusive:\n")
	for i := 0; i < 2*n && i < len(all); i++ {
		fmt.Fprintf(&b, "%6.1f%% %s\n", 100*float64(all[i].v)/float64(total), all[i].k)
	}
	return b.String()
}
