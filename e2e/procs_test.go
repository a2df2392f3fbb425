package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// chromiumProcess is a running Chromium process: its pid, and a label
// made of its --type or --utility-sub-type (browser when it has none).
type chromiumProcess struct {
	pid   int
	label string
}

// chromiumProcesses lists the running Chromium processes.
func chromiumProcesses() []chromiumProcess {
	var out []chromiumProcess
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
		out = append(out, chromiumProcess{pid, label})
	}
	return out
}

// chromiumCPU returns the CPU seconds (user plus system) used so far by
// each running Chromium process, keyed by pid.
func chromiumCPU() map[int]procCPU {
	out := map[int]procCPU{}
	for _, p := range chromiumProcesses() {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
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
		out[p.pid] = procCPU{label: p.label, sec: (ut + st) / 100} // USER_HZ is 100 on Linux
	}
	return out
}

// maxRendererRSS returns the resident memory, in bytes, of the largest
// Chromium renderer process: a tab with its workers, Blink and V8 included.
func maxRendererRSS() float64 {
	var best float64
	for _, p := range chromiumProcesses() {
		if p.label != "renderer" {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				best = max(best, kb*1024)
			}
		}
	}
	return best
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
