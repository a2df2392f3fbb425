package swarmtest

import (
	"crypto/rand"
	"encoding/json"
	"testing"

	"tabswarm/swarm"
)

// Manifest returns a manifest named name of a file of size bytes whose
// chunk hashes are made up, with its JSON: enough for a tracker, which
// checks a manifest against its digest but never sees the chunks.
func Manifest(tb testing.TB, name string, size int64) (*swarm.Manifest, json.RawMessage) {
	tb.Helper()
	cs := swarm.ChunkSize(size)
	chunks := make([]swarm.Hash, (size+cs-1)/cs)
	for i := range chunks {
		rand.Read(chunks[i][:])
	}
	m := swarm.NewManifest(name, "application/octet-stream", size, chunks)
	raw, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return m, raw
}
