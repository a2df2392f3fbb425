package e2e

import (
	"context"
	"testing"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
	"tabswarm/swarm/swarmtest"
)

// gatedSeeder is a native peer that seeds a test file from disk but serves
// only the first allow distinct chunks until the test releases it. A
// download from it is partway, and stays so, until the test has acted:
// tests of "mid-transfer" events wait for a state instead of racing the
// transfer.
type gatedSeeder struct {
	name string
	node *swarm.Node
	gate *swarmtest.GatedLibrary
	stop func() // the seeder leaves, as a closed tab would
}

// startGatedSeeder starts a gated seeder of f and returns once the tracker
// lists it.
func (e *env) startGatedSeeder(tb testing.TB, name string, f testFile, allow int) *gatedSeeder {
	tb.Helper()
	lib := filestore.New(tb.TempDir())
	tb.Cleanup(func() { lib.Close() })
	m, err := lib.Share(context.Background(), f.path)
	if err != nil {
		tb.Fatal(err)
	}
	if m.Digest.String() != f.digest {
		tb.Fatalf("%s: digest %s, want %s", name, m.Digest, f.digest)
	}
	gate := swarmtest.NewGatedLibrary(lib, allow)
	n, stop := e.runNative(tb, name, gate)
	if _, err := n.Add(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
	e.waitListed(tb, f.digest)
	return &gatedSeeder{name: name, node: n, gate: gate, stop: stop}
}

// haveAtLeast returns a waitFile condition: n chunks verified and stored.
// Waiting on stored chunks rather than bytes received matters in a tab,
// where storing in IndexedDB lags the wire.
func haveAtLeast(n int) func(swarm.FileStats) bool {
	return func(f swarm.FileStats) bool { return f.Have >= n }
}

// numChunks is how many chunks a file of size bytes has.
func numChunks(size int64) int {
	cs := swarm.ChunkSize(size)
	return int((size + cs - 1) / cs)
}
