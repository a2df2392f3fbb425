// Package figure prints what the benchmarks measure: each quantity is
// measured over several runs and printed as one line with its median, min
// and max, for example
//
//	tab-to-tab 256MiB: median 12.3 MB/s (min 11.9, max 12.8, 3 runs)
//
// Nothing here asserts a time.
package figure

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
)

// Runs is how many times each figure is measured: TABSWARM_BENCH_RUNS,
// default 3.
func Runs() int {
	if n, err := strconv.Atoi(os.Getenv("TABSWARM_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// Figure is one quantity measured over several runs.
type Figure struct {
	name, unit string
	vals       []float64
}

// New returns an empty figure called name, measured in unit.
func New(name, unit string) *Figure { return &Figure{name: name, unit: unit} }

// Name returns the figure's name.
func (f *Figure) Name() string { return f.name }

// Add records one run's value.
func (f *Figure) Add(v float64) { f.vals = append(f.vals, v) }

// Median returns the median of the values, or 0 without any.
func (f *Figure) Median() float64 {
	if len(f.vals) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(f.vals))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// String is the figure's line.
func (f *Figure) String() string {
	if len(f.vals) == 0 {
		return f.name + ": no runs"
	}
	return fmt.Sprintf("%s: median %s %s (min %s, max %s, %d runs)",
		f.name, Num(f.Median()), f.unit, Num(slices.Min(f.vals)), Num(slices.Max(f.vals)), len(f.vals))
}

// medians holds every printed figure's median by name.
var medians sync.Map

// Print writes the figure's line to stdout and remembers its median under
// its name, for ratios printed later.
func (f *Figure) Print() {
	fmt.Println(f.String())
	medians.Store(f.name, f.Median())
}

// PrintRatio prints num over the median of the printed figure denName as
// "name: 0.87 (target >= 0.90)", or "name: 0.87" with no target, or says
// that figure was not measured.
func PrintRatio(name string, num float64, denName, target string) {
	v, ok := medians.Load(denName)
	if !ok || v.(float64) == 0 {
		fmt.Printf("%s: n/a (%s was not measured)\n", name, denName)
		return
	}
	if target == "" {
		fmt.Printf("%s: %.2f\n", name, num/v.(float64))
		return
	}
	fmt.Printf("%s: %.2f (target %s)\n", name, num/v.(float64), target)
}

// Num formats v with three significant digits, or none after the point
// from 100 on: 0.873, 12.3, 20417.
func Num(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10 || v <= -10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
