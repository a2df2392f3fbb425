//go:build !js

package filestore

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"tabswarm/internal/figure"
	"tabswarm/swarm"
)

// BenchmarkStore1GiB stores a 1 GiB download chunk by chunk (1 MiB
// chunks, as the engine hands them over) in a temporary folder on this
// machine's disk and finishes it: the store's share of a `get`, without
// the network. It prints the median, min and max MB/s of
// TABSWARM_BENCH_RUNS runs; run it with -benchtime 1x.
func BenchmarkStore1GiB(b *testing.B) {
	const size = 1 << 30
	ctx := context.Background()
	cs := swarm.ChunkSize(size)
	chunk := make([]byte, cs)
	rand.NewChaCha8([32]byte{7}).Read(chunk)
	hashes := make([]swarm.Hash, size/cs)
	for i := range hashes {
		hashes[i] = swarm.HashChunk(chunk)
	}
	m := swarm.NewManifest("bench.bin", "", size, hashes)
	fig := figure.New("store a 1GiB download on disk", "MB/s")
	for range figure.Runs() {
		dir := b.TempDir()
		l := New(dir)
		start := time.Now()
		c, err := l.Download(context.Background(), m, filepath.Join(dir, "bench.bin"), nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range hashes {
			if err := c.WriteChunk(ctx, i, chunk); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := l.Finish(m.Digest); err != nil {
			b.Fatal(err)
		}
		fig.Add(size / 1e6 / time.Since(start).Seconds())
		l.Close()
	}
	fig.Print()
	b.ReportMetric(fig.Median(), "MB/s")
}
