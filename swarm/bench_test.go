//go:build !js

package swarm_test

import (
	"context"
	"testing"
	"time"

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
