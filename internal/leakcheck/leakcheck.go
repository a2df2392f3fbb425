//go:build !js

// Package leakcheck fails a test binary whose goroutines outlive its tests.
package leakcheck

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs m and exits with its code, or with 1 if, after the tests
// passed, more goroutines remain than before them for longer than 10
// seconds. Call it from TestMain.
func Main(m *testing.M) {
	before := goroutines()
	code := m.Run()
	if code == 0 {
		if err := wait(before); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

func wait(before int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		n := goroutines()
		if n <= before {
			return nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("leaked goroutines: %d before the tests, %d after:\n%s", before, n, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// goroutines counts goroutines, less the signal watcher that the fuzzing
// engine starts once and never stops.
func goroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "os/signal.loop") {
			n++
		}
	}
	return n
}
