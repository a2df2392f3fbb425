package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromiumCPU returns the CPU seconds (user plus system) used so far by
// each running Chromium process, keyed by pid, with a label made of its
// --type (browser when it has none).
func chromiumCPU() map[int]procCPU {
	out := map[int]procCPU{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), "chromium") {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state is 3rd, utime 14th, stime 15th.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		label := "browser"
		// Chromium rewrites its command line as one space-separated string.
		for _, a := range strings.Fields(strings.ReplaceAll(string(cmd), "\x00", " ")) {
			if t, ok := strings.CutPrefix(a, "--type="); ok {
				label = t
			}
			if s, ok := strings.CutPrefix(a, "--utility-sub-type="); ok {
				label = s
			}
		}
		out[pid] = procCPU{label: label, sec: (ut + st) / 100} // USER_HZ is 100 on Linux
	}
	return out
}

type procCPU struct {
	label string
	sec   float64
}

// cpuSince reports the CPU seconds each Chromium process used since before
// was taken, busiest first, skipping processes that used less than 0.1 s.
func cpuSince(before map[int]procCPU) string {
	after := chromiumCPU()
	type row struct {
		pid int
		procCPU
	}
	var rows []row
	var total float64
	for pid, a := range after {
		d := a.sec - before[pid].sec
		total += d
		if d >= 0.1 {
			rows = append(rows, row{pid, procCPU{a.label, d}})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].sec > rows[j].sec })
	var b strings.Builder
	fmt.Fprintf(&b, "Chromium CPU: %.2fs in all\n", total)
	for _, r := range rows {
		fmt.Fprintf(&b, "%8.2fs pid %d %s\n", r.sec, r.pid, r.label)
	}
	return b.String()
}

// TestCPUTabToTab moves 64 MiB tab to tab and logs the CPU seconds each
// Chromium process spent: a figure that, unlike MB/s, holds still on a
// busy machine. It is a tool, not a check: set TABSWARM_CPU=1 to run it.
func TestCPUTabToTab(t *testing.T) {
	if os.Getenv("TABSWARM_CPU") == "" {
		t.Skip("set TABSWARM_CPU=1 to measure the CPU a transfer costs")
	}
	const size = 64 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-64MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f.path)
	bob := e.newPerson(t, "bob", "/")
	before := chromiumCPU()
	took := bob.get(t, f.digest, f.digest, size)
	t.Logf("transfer: %.1f MB/s\n%s", size/1e6/took.Seconds(), cpuSince(before))
}

// TestCPUCeiling is TestCPUTabToTab for the raw ceiling's plain-JS page.
func TestCPUCeiling(t *testing.T) {
	if os.Getenv("TABSWARM_CPU") == "" {
		t.Skip("set TABSWARM_CPU=1 to measure the CPU a transfer costs")
	}
	const size = 64 << 20
	e := newEnv(t)
	page := serveCeiling(t)
	tx := e.newBlankPerson(t, "ceiling-tx")
	rx := e.newBlankPerson(t, "ceiling-rx")
	before := chromiumCPU()
	ms, err := ceilingRun(tx.ctx, rx.ctx, page, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transfer: %.1f MB/s\n%s", size/1e6/(ms/1e3), cpuSince(before))
}

// TestCPUShare shares 256 MiB in a tab and logs the rate and the CPU
// seconds each Chromium process spent. Set TABSWARM_CPU=1 to run it.
func TestCPUShare(t *testing.T) {
	if os.Getenv("TABSWARM_CPU") == "" {
		t.Skip("set TABSWARM_CPU=1 to measure the CPU a share costs")
	}
	const size = 256 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "random-256MiB.bin", size)
	alice := e.newPerson(t, "alice", "/")
	before := chromiumCPU()
	start := time.Now()
	alice.share(t, f.path)
	t.Logf("share: %.1f MB/s\n%s", size/1e6/time.Since(start).Seconds(), cpuSince(before))
}
