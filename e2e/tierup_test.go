package e2e

import (
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"tabswarm/static"
)

// tierLog collects Chromium's output while the tierup probe runs: V8 then
// prints a line for each wasm function it compiles
// (--trace-wasm-compilation-times).
var tierLog = &tailBuffer{max: 64 << 20}

// tierupFlags returns the V8 flags the tierup probe needs, or "".
func tierupFlags() string {
	if os.Getenv("TABSWARM_PROBE") != "tierup" {
		return ""
	}
	return "--trace-wasm-compilation-times"
}

var compiledRE = regexp.MustCompile(`Compiled function (0x[0-9a-f]+)#(\d+) using TurboFan, took (\d+) (μs|ms)`)

// tierupProbe reports, per wasm module (one per renderer), the functions
// V8 compiled with its optimizing compiler (TurboFan) while the scenario
// ran, with their compile times: the warm-up a fresh tab pays on its
// worker threads.
func tierupProbe(t *testing.T, tabs []*person) func() string {
	start := len(tierLog.String())
	return func() string {
		time.Sleep(time.Second) // compiles finish in the background
		names, err := wasmFuncNames("dist/tabswarm.wasm")
		if err != nil {
			t.Fatal(err)
		}
		type fn struct {
			name string
			took time.Duration
		}
		mods := map[string][]fn{}
		for _, line := range strings.Split(tierLog.String()[start:], "\n") {
			m := compiledRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			idx, _ := strconv.Atoi(m[2])
			n, _ := strconv.Atoi(m[3])
			took := time.Duration(n) * time.Microsecond
			if m[4] == "ms" {
				took = time.Duration(n) * time.Millisecond
			}
			name := names[idx]
			if name == "" {
				name = fmt.Sprintf("#%d (another module)", idx)
			}
			mods[m[1]] = append(mods[m[1]], fn{name, took})
		}
		var b strings.Builder
		for mod, fns := range mods {
			var total time.Duration
			for _, f := range fns {
				total += f.took
			}
			sort.Slice(fns, func(i, j int) bool { return fns[i].took > fns[j].took })
			fmt.Fprintf(&b, "\n== module %s: %d functions by TurboFan in %v\n", mod, len(fns), total)
			for _, f := range fns[:min(len(fns), 30)] {
				fmt.Fprintf(&b, "%8.1f ms %s\n", float64(f.took)/1e6, f.name)
			}
		}
		return b.String()
	}
}

// wasmFuncNames reads the function names of the embedded wasm module at
// path from its name section, by function index.
func wasmFuncNames(path string) (map[int]string, error) {
	data, err := static.FS.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 8 {
		return nil, fmt.Errorf("%s: not a wasm module", path)
	}
	r := wasmReader{b: data[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		sec := wasmReader{b: r.bytes(int(r.uleb()))}
		if id != 0 || sec.name() != "name" {
			continue
		}
		for len(sec.b) > 0 {
			sub := sec.byte()
			body := wasmReader{b: sec.bytes(int(sec.uleb()))}
			if sub != 1 {
				continue
			}
			names := map[int]string{}
			for n := body.uleb(); n > 0 && body.err == nil; n-- {
				idx := int(body.uleb())
				names[idx] = body.name()
			}
			return names, body.err
		}
	}
	return nil, fmt.Errorf("%s: no function names (built with -s?)", path)
}

// wasmReader reads a wasm binary's LEB128 numbers, bytes and names; past
// the end it records an error and returns zeros.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.err = fmt.Errorf("wasm: unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) uleb() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("wasm: bad LEB128 number")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wasmReader) bytes(n int) []byte {
	if n > len(r.b) {
		r.err = fmt.Errorf("wasm: unexpected end")
		n = len(r.b)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *wasmReader) name() string { return string(r.bytes(int(r.uleb()))) }
