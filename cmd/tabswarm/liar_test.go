package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/swarmtest"
)

// TestGetOnlyLiars: when the only peer with the file sends corrupt chunks,
// get ends with a clear error and exit status 7 once no honest peer came
// within the grace, instead of waiting for ever.
func TestGetOnlyLiars(t *testing.T) {
	shortTimeouts(t)
	g := liarGrace
	liarGrace = 2 * time.Second
	t.Cleanup(func() { liarGrace = g })
	url := startTracker(t)

	data := make([]byte, 600<<10)
	for i := range data {
		data[i] = byte(i * 31)
	}
	cs := swarm.ChunkSize(int64(len(data)))
	m := swarm.NewManifest("f.bin", "", int64(len(data)), swarm.HashRun(nil, data, cs))
	liar := new(swarmtest.LyingLibrary)
	store, err := liar.MemLibrary.Open(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.NumChunks() {
		off := int64(i) * cs
		if err := store.WriteChunk(context.Background(), i, data[off:min(off+cs, int64(len(data)))]); err != nil {
			t.Fatal(err)
		}
	}
	startNode(t, url, liar)

	_, stderr, err := runCmd(t, "get", m.Digest.String(), "--tracker", url, "-o", t.TempDir()+"/out.bin")
	if exitCode(err) != 7 || !strings.Contains(err.Error(), "sent corrupt data") {
		t.Fatalf("err %v (exit %d); stderr %s", err, exitCode(err), stderr)
	}
}
