//go:build !js

package swarm_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"tabswarm/internal/figure"
	"tabswarm/swarm"
)

// BenchmarkNativeTransfer moves a 64 MiB file between two native nodes over
// pion on this machine's interface and reports MB/s.
func BenchmarkNativeTransfer(b *testing.B) {
	const size = 64 << 20
	url := startTracker(b)
	data := randomBytes(size, 1)
	seedLib := new(swarm.MemLibrary)
	m := seedBytes(b, seedLib, "bench.bin", data)
	startNode(b, url, seedLib)
	waitAnnounced(b, url, m.Digest)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		n := startNode(b, url, new(swarm.MemLibrary))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := n.Get(ctx, m.Digest); err != nil {
			b.Fatal(err)
		}
		for {
			if s, _ := n.File(m.Digest); s.State == swarm.StateSeeding {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}
}

// BenchmarkNative1GiB is issue 6's native-to-native figure: a 1 GiB file
// from one node to a fresh one, both on in-memory stores (MemLibrary), over
// pion between host candidates on this machine's interface. Each run's
// leecher stops before the next starts, so every run has one source. It
// measures TABSWARM_BENCH_RUNS times (default 3) within one b.N and prints
// the median, min and max MB/s; run it with -benchtime 1x.
func BenchmarkNative1GiB(b *testing.B) {
	const size = 1 << 30
	url := startTracker(b)
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{6}).Read(data)
	seedLib := new(swarm.MemLibrary)
	m := seedBytes(b, seedLib, "bench-1GiB.bin", data)
	data = nil
	startNode(b, url, seedLib)
	waitAnnounced(b, url, m.Digest)

	fig := figure.New("native to native 1GiB (memory store)", "MB/s")
	for range figure.Runs() {
		ctx, cancel := context.WithCancel(context.Background())
		n := swarm.NewNode(swarm.Options{Tracker: url, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		done := make(chan struct{})
		go func() { defer close(done); n.Run(ctx) }()
		start := time.Now()
		gctx, gcancel := context.WithTimeout(ctx, 10*time.Minute)
		if _, err := n.Get(gctx, m.Digest); err != nil {
			b.Fatal(err)
		}
		for {
			if s, _ := n.File(m.Digest); s.State == swarm.StateSeeding {
				break
			}
			if gctx.Err() != nil {
				b.Fatal("no complete file within 10 minutes")
			}
			time.Sleep(5 * time.Millisecond)
		}
		fig.Add(size / 1e6 / time.Since(start).Seconds())
		gcancel()
		cancel()
		<-done
	}
	fig.Print()
	b.ReportMetric(fig.Median(), "MB/s")
}
