package e2e

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// The probe tests are tools, not checks: they run a scenario while a probe
// watches the browser, and log what it saw. Pick the probe with
// TABSWARM_PROBE; without it they skip. For example:
//
//	TABSWARM_PROBE=cpu go test -run TestProbe -v ./e2e
//
// The probes:
//   - cpu: CPU seconds per process of the test's Chromium (/proc), a
//     figure that holds still on a busy machine, unlike MB/s;
//   - trace: a Chromium performance trace of the whole browser, summed per
//     thread into the events with the most self time;
//   - profile: the JS and wasm CPU profile of each tab, by self and by
//     inclusive time (wasm function names need a build without -s -w);
//   - tierup: the wasm functions V8 compiled with TurboFan while the
//     scenario ran, per renderer, and how long each took: a fresh tab's
//     warm-up.

// A probe starts watching the tabs and returns the function that stops it
// and reports.
type probe func(t *testing.T, tabs []*person) (stop func() string)

var probes = map[string]probe{"cpu": cpuProbe, "trace": traceProbe, "profile": profileProbe, "tierup": tierupProbe}

// probeFromEnv returns the probe TABSWARM_PROBE names, or skips the test.
func probeFromEnv(t *testing.T) probe {
	name := os.Getenv("TABSWARM_PROBE")
	if name == "" {
		t.Skip("a tool: set TABSWARM_PROBE to cpu, trace, profile or tierup to run it")
	}
	p, ok := probes[name]
	if !ok {
		t.Fatalf("TABSWARM_PROBE=%s: want cpu, trace, profile or tierup", name)
	}
	return p
}

// TestProbeTabToTab moves 64 MiB from Alice's tab to Bob's.
func TestProbeTabToTab(t *testing.T) {
	p := probeFromEnv(t)
	const size = 64 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-64MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f)
	bob := e.newPerson(t, "bob", "/")
	stop := p(t, []*person{alice, bob})
	took := bob.get(t, f.digest, f.digest, size)
	t.Logf("transfer: %.1f MB/s\n%s", size/1e6/took.Seconds(), stop())
}

// TestProbeCeiling moves 64 MiB over the raw ceiling's plain-JS page.
func TestProbeCeiling(t *testing.T) {
	p := probeFromEnv(t)
	const size = 64 << 20
	e := newEnv(t)
	page := serveCeiling(t)
	tx := e.newBlankPerson(t, "ceiling-tx")
	rx := e.newBlankPerson(t, "ceiling-rx")
	if err := connectPages(tx.ctx, rx.ctx, page); err != nil {
		t.Fatal(err)
	}
	stop := p(t, []*person{tx, rx})
	ms, err := ceilingRun(tx.ctx, rx.ctx, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transfer: %.1f MB/s\n%s", size/1e6/(ms/1e3), stop())
}

// TestProbeFloor moves 64 MiB over the floor's plain-JS page: read from
// IndexedDB, verified and stored.
func TestProbeFloor(t *testing.T) {
	p := probeFromEnv(t)
	const size = 64 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-64MiB.bin", size)
	page := serveCeiling(t)
	tx := e.newBlankPerson(t, "floor-tx")
	rx := e.newBlankPerson(t, "floor-rx")
	if err := connectPages(tx.ctx, rx.ctx, page); err != nil {
		t.Fatal(err)
	}
	floorStore(t, tx, f)
	stop := p(t, []*person{tx, rx})
	r, err := floorRun(tx, rx, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transfer: %.1f MB/s\n%s", size/1e6/(r.MS/1e3), stop())
}

// TestProbeShare shares 256 MiB in Alice's tab.
func TestProbeShare(t *testing.T) {
	p := probeFromEnv(t)
	const size = 256 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-256MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	stop := p(t, []*person{alice})
	start := time.Now()
	alice.share(t, f)
	t.Logf("share: %.1f MB/s\n%s", size/1e6/time.Since(start).Seconds(), stop())
}

// cpuProbe reports the CPU seconds each Chromium process used.
func cpuProbe(t *testing.T, tabs []*person) func() string {
	root := tabs[0].env.browserPID()
	before := chromiumCPU(root)
	return func() string { return cpuSince(root, before) }
}

// topN formats the n largest of by, in seconds, after a heading.
func topN(heading string, by map[string]float64, n int) string {
	type kv struct {
		k string
		v float64
	}
	var all []kv
	for k, v := range by {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var b strings.Builder
	b.WriteString(heading + "\n")
	for i := 0; i < n && i < len(all); i++ {
		fmt.Fprintf(&b, "%8.3fs %s\n", all[i].v, all[i].k)
	}
	return b.String()
}
