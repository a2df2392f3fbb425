//go:build !js

package swarm_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"tabswarm/internal/figure"
	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
	"tabswarm/swarm/rtc"
)

// waitComplete waits until file d on n is complete. It returns the
// download's error as soon as it ends in one, and when ctx ends first.
func waitComplete(ctx context.Context, n *swarm.Node, d swarm.Hash) error {
	if err := n.Wait(ctx, d); err != nil {
		s, _ := n.File(d)
		return fmt.Errorf("download of %s: %d of %d chunks: %w", d, s.Have, s.Chunks, err)
	}
	return nil
}

// TestWaitCompleteEndsOnError checks that the benchmarks' wait returns
// the download's error at once instead of spinning until its deadline.
func TestWaitCompleteEndsOnError(t *testing.T) {
	url := startTracker(t)
	seedLib := new(swarm.MemLibrary)
	m := seedBytes(t, seedLib, "f.bin", randomBytes(3*swarm.MinChunkSize, 4))
	startNode(t, url, seedLib)
	waitAnnounced(t, url, m.Digest)
	getter := startNode(t, url, &swarm.MemLibrary{Limit: swarm.MinChunkSize})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := getter.Get(ctx, m.Digest); err != nil {
		t.Fatal(err)
	}
	err := waitComplete(ctx, getter, m.Digest)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("waitComplete = %v after a failed download, want its error before the deadline", err)
	}
}

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
		if err := waitComplete(ctx, n, m.Digest); err != nil {
			b.Fatal(err)
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
	bench1GiB(b, "native to native 1GiB (memory store)", func(b *testing.B) swarm.Library { return nil })
}

// BenchmarkNative1GiBToDisk is BenchmarkNative1GiB with the leecher on
// the native file store (as `tabswarm get` writes), in a temporary folder
// on this machine's disk: the cost of storing and recording each chunk.
func BenchmarkNative1GiBToDisk(b *testing.B) {
	bench1GiB(b, "native to native 1GiB (leecher on disk)", func(b *testing.B) swarm.Library {
		l := filestore.New(b.TempDir())
		b.Cleanup(func() { l.Close() })
		return l
	})
}

// bench1GiB measures 1 GiB from a seeder on a memory store to a fresh
// leecher on the library newLib returns (nil: a memory store).
func bench1GiB(b *testing.B, name string, newLib func(*testing.B) swarm.Library) {
	const size = 1 << 30
	url := startTracker(b)
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{6}).Read(data)
	seedLib := new(swarm.MemLibrary)
	m := seedBytes(b, seedLib, "bench-1GiB.bin", data)
	data = nil
	startNode(b, url, seedLib)
	waitAnnounced(b, url, m.Digest)

	fig := figure.New(name, "MB/s")
	for range figure.Runs() {
		ctx, cancel := context.WithCancel(context.Background())
		n := swarm.NewNode(swarm.Options{Connector: rtc.New(rtc.Options{Tracker: url}), Library: newLib(b)})
		done := make(chan struct{})
		go func() { defer close(done); n.Run(ctx) }()
		start := time.Now()
		gctx, gcancel := context.WithTimeout(ctx, 10*time.Minute)
		if _, err := n.Get(gctx, m.Digest); err != nil {
			b.Fatal(err)
		}
		if err := waitComplete(gctx, n, m.Digest); err != nil {
			b.Fatal(err)
		}
		fig.Add(size / 1e6 / time.Since(start).Seconds())
		gcancel()
		cancel()
		<-done
	}
	fig.Print()
	b.ReportMetric(fig.Median(), "MB/s")
}
