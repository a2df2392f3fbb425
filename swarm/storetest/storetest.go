// Package storetest is the conformance suite every swarm.Library passes:
// in memory and on disk natively, and IndexedDB in the browser.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"tabswarm/swarm"
)

// Run checks the Library that newLib returns; each subtest gets a fresh,
// empty one.
func Run(t *testing.T, newLib func(t *testing.T) swarm.Library) {
	ctx := context.Background()
	data := make([]byte, swarm.MinChunkSize+100)
	for i := range data {
		data[i] = byte(i % 251)
	}
	chunk := func(i int) []byte {
		return data[i*swarm.MinChunkSize : min((i+1)*swarm.MinChunkSize, len(data))]
	}
	m := swarm.NewManifest("f.bin", "", int64(len(data)), []swarm.Hash{swarm.HashChunk(chunk(0)), swarm.HashChunk(chunk(1))})

	t.Run("Empty", func(t *testing.T) {
		lib := newLib(t)
		ms, err := lib.Files(ctx)
		if err != nil || len(ms) != 0 {
			t.Fatalf("Files = %v, %v; want none", ms, err)
		}
	})
	t.Run("WriteReadHave", func(t *testing.T) {
		lib := newLib(t)
		c, err := lib.Open(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := c.Have(ctx); err != nil || h.Count() != 0 || h.Len() != 2 {
			t.Fatalf("Have of a new file = %d of %d, %v", h.Count(), h.Len(), err)
		}
		if _, err := c.ReadChunk(ctx, 1); !errors.Is(err, swarm.ErrNoChunk) {
			t.Fatalf("reading a missing chunk: %v, want ErrNoChunk", err)
		}
		if err := c.WriteChunk(ctx, 1, chunk(1)); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadChunk(ctx, 1)
		if err != nil || !bytes.Equal(got, chunk(1)) {
			t.Fatalf("ReadChunk = %d bytes, %v", len(got), err)
		}
		h, err := c.Have(ctx)
		if err != nil || h.Has(0) || !h.Has(1) {
			t.Fatalf("Have after one write: %v", err)
		}
	})
	t.Run("Reopen", func(t *testing.T) {
		lib := newLib(t)
		c, _ := lib.Open(ctx, m)
		if err := c.WriteChunk(ctx, 0, chunk(0)); err != nil {
			t.Fatal(err)
		}
		c2, err := lib.Open(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if h, _ := c2.Have(ctx); !h.Has(0) {
			t.Fatal("reopened file lost its chunk")
		}
		ms, err := lib.Files(ctx)
		if err != nil || len(ms) != 1 || ms[0].Digest != m.Digest {
			t.Fatalf("Files = %v, %v", ms, err)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		lib := newLib(t)
		c, _ := lib.Open(ctx, m)
		c.WriteChunk(ctx, 0, chunk(0))
		if err := lib.Remove(ctx, m.Digest); err != nil {
			t.Fatal(err)
		}
		if ms, _ := lib.Files(ctx); len(ms) != 0 {
			t.Fatalf("Files after Remove = %v", ms)
		}
		c, _ = lib.Open(ctx, m)
		if h, _ := c.Have(ctx); h.Count() != 0 {
			t.Fatal("chunks survived Remove")
		}
		if err := lib.Remove(ctx, swarm.Hash{9}); err != nil {
			t.Fatalf("removing an unknown file: %v", err)
		}
	})
}
