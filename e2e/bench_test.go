package e2e

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkTabToTab moves one 64 MiB file from one tab to a fresh tab in
// another browser context, and reports MB/s (10^6 bytes per second) from
// pressing Get until the row is seeding. share-MB/s is Alice's time to read,
// hash and store the file. Run it once: go test -run XXX -bench TabToTab
// -benchtime 1x ./e2e (after make build).
func BenchmarkTabToTab(b *testing.B) {
	const size = 64 << 20
	e := newEnv(b)
	f := makeFile(b, b.TempDir(), "random-64MiB.bin", size)
	alice := e.newPerson(b, "alice", "/")
	start := time.Now()
	if d := alice.share(b, f.path); d != f.digest {
		b.Fatalf("page digest %s, native %s", d, f.digest)
	}
	shared := time.Since(start)

	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		bob := e.newPerson(b, fmt.Sprintf("bob%d", i), "/")
		b.StartTimer()
		took := bob.get(b, f.digest, f.digest, size)
		b.StopTimer()
		total += took
		b.Logf("transfer %d: %d bytes in %v, %.1f MB/s", i, size, took.Round(time.Millisecond), size/1e6/took.Seconds())
		if i == 0 {
			checkSaved(b, bob.name, f, bob.save(b, f.digest, size))
		}
		bob.close()
	}
	b.ReportMetric(float64(size)*float64(b.N)/1e6/total.Seconds(), "MB/s")
	b.ReportMetric(size/1e6/shared.Seconds(), "share-MB/s")
}
