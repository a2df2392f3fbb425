package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumProcess is a running Chromium process: its pid, and a label
// made of its --type or --utility-sub-type (browser when it has none).
type chromiumProcess struct {
	pid   int
	label string
}

// browserPID returns the pid of e's Chromium browser process. Other
// Chromiums may run on the machine (other tests); the figures here count
// this one's processes only.
func (e *env) browserPID() int {
	return chromedp.FromContext(e.browser).Browser.Process().Pid
}

// chromiumProcesses lists the processes of the Chromium whose browser
// process is root: root and every process descended from it.
func chromiumProcesses(root int) []chromiumProcess {
	parent := map[int]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1]) // ppid, after the state
		}
	}
	var out []chromiumProcess
	for pid := range parent {
		a := pid
		for a != root && a > 1 {
			a = parent[a]
		}
		if a != root {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
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

// statFields returns the fields of /proc/pid/stat after the parenthesised
// command (the state first), or nil.
func statFields(pid int) []string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 || i+2 > len(stat) {
		return nil
	}
	return strings.Fields(string(stat[i+2:]))
}

// chromiumCPU returns the CPU seconds (user plus system) used so far by
// each process of the Chromium rooted at root, keyed by pid.
func chromiumCPU(root int) map[int]procCPU {
	out := map[int]procCPU{}
	for _, p := range chromiumProcesses(root) {
		// utime is the 14th field of stat, stime the 15th.
		f := statFields(p.pid)
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[p.pid] = procCPU{label: p.label, sec: (ut + st) / 100} // USER_HZ is 100 on Linux
	}
	return out
}

// procRSS returns the resident memory of process pid in bytes, or 0.
func procRSS(pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// maxRendererRSS returns the resident memory, in bytes, of the largest
// renderer process of the Chromium rooted at root: a tab with its
// workers, Blink and V8 included.
func maxRendererRSS(root int) float64 {
	var best float64
	for _, p := range chromiumProcesses(root) {
		if p.label == "renderer" {
			best = max(best, procRSS(p.pid))
		}
	}
	return best
}

// peakRSS samples the resident memory of process pid every 100 ms until
// the returned stop is called, which returns the largest sample.
func peakRSS(pid int) (stop func() float64) {
	done := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		var best float64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			best = max(best, procRSS(pid))
			select {
			case <-done:
				peak <- max(best, procRSS(pid))
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		return <-peak
	}
}

// rendererPID returns the pid of the renderer process that runs p's page.
// No DevTools call maps a tab to its process, but a trace started on the
// tab's session opens with an event that lists its frames with the pid
// that renders each; a trace of next to nothing costs next to nothing.
func (p *person) rendererPID() (int, error) {
	end, err := startTrace(p.ctx, false, []string{"disabled-by-default-devtools.timeline"})
	if err != nil {
		return 0, err
	}
	events, err := end()
	if err != nil {
		return 0, err
	}
	for _, raw := range events {
		var ev struct {
			Name string `json:"name"`
			Args struct {
				Data struct {
					Frames []struct {
						Frame     string `json:"frame"`
						ProcessID int    `json:"processId"`
					} `json:"frames"`
				} `json:"data"`
			} `json:"args"`
		}
		if json.Unmarshal(raw, &ev) != nil || ev.Name != "TracingStartedInBrowser" {
			continue
		}
		for _, f := range ev.Args.Data.Frames {
			if f.Frame == string(p.frame) && f.ProcessID > 0 {
				return f.ProcessID, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: the trace names no process for frame %s", p.name, p.frame)
}

type procCPU struct {
	label string
	sec   float64
}

// cpuSince reports the CPU seconds each process of the Chromium rooted at
// root used since before was taken, busiest first, skipping processes
// that used less than 0.1 s.
func cpuSince(root int, before map[int]procCPU) string {
	after := chromiumCPU(root)
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

// Process kinds for CPU figures: the two tabs of a transfer, the browser
// process, and every other process (GPU, network, storage, audio, spare
// renderers).
const (
	kindSender   = "sending renderer"
	kindReceiver = "receiving renderer"
	kindBrowser  = "browser"
	kindOther    = "GPU/utility"
)

var procKinds = []string{kindSender, kindReceiver, kindBrowser, kindOther}

// cpuByKind sums the CPU seconds each process used since before, by kind:
// tx and rx are the sending and receiving renderers' pids.
func cpuByKind(root int, before map[int]procCPU, tx, rx int) map[string]float64 {
	out := map[string]float64{}
	for pid, a := range chromiumCPU(root) {
		k := kindOther
		switch {
		case pid == tx:
			k = kindSender
		case pid == rx:
			k = kindReceiver
		case a.label == "browser":
			k = kindBrowser
		}
		out[k] += a.sec - before[pid].sec
	}
	return out
}
