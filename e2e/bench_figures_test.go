package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
)

// The benchmarks in bench_*_test.go measure figures for issue 6. Each
// repeats its measurement benchRuns() times inside one b.N iteration (run
// them with -benchtime 1x) and prints one line per figure:
//
//	tab-to-tab 256MiB: median 12.3 MB/s (min 11.9, max 12.8)
//
// MB is 10^6 bytes, MiB 2^20. Nothing here asserts a time.

// benchRuns is how many times each figure is measured: TABSWARM_BENCH_RUNS,
// default 3.
func benchRuns() int {
	if n, err := strconv.Atoi(os.Getenv("TABSWARM_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// figure is one quantity measured over several runs.
type figure struct {
	name, unit string
	vals       []float64
}

func (f *figure) add(v float64) { f.vals = append(f.vals, v) }

// median returns the median of the values, or 0 without any.
func (f *figure) median() float64 {
	if len(f.vals) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(f.vals))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func (f *figure) String() string {
	if len(f.vals) == 0 {
		return f.name + ": no runs"
	}
	return fmt.Sprintf("%s: median %s %s (min %s, max %s, %d runs)",
		f.name, num(f.median()), f.unit, num(slices.Min(f.vals)), num(slices.Max(f.vals)), len(f.vals))
}

// print writes the figure's line to stdout and remembers its median under
// its name, for ratios that later benchmarks print.
func (f *figure) print() {
	fmt.Println(f.String())
	medians.Store(f.name, f.median())
}

// medians holds every printed figure's median by name.
var medians sync.Map

// printRatio prints num/den as "name: 0.87 (target)", if both are known.
func printRatio(name string, num float64, denName, target string) {
	v, ok := medians.Load(denName)
	if !ok || v.(float64) == 0 {
		fmt.Printf("%s: n/a (%s was not measured)\n", name, denName)
		return
	}
	fmt.Printf("%s: %.2f (target %s)\n", name, num/v.(float64), target)
}

// num formats v with three significant digits, or none after the point
// from 100 on: 0.873, 12.3, 20417.
func num(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10 || v <= -10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
