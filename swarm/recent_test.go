package swarm

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestRecentChunksKeepsTheLastWithinBudget(t *testing.T) {
	r := newRecentChunks(10)
	var a, b Hash
	b[0] = 1
	chunk := func(n byte) []byte { return []byte{n, n, n, n} }
	r.add(chunkRef{a, 1}, chunk(1))
	r.add(chunkRef{b, 1}, chunk(2)) // the same index of another file
	r.add(chunkRef{a, 1}, chunk(9)) // already kept: unchanged
	if got, ok := r.get(chunkRef{a, 1}); !ok || got[0] != 1 {
		t.Fatalf("chunk a/1: %v, %v", got, ok)
	}
	r.add(chunkRef{a, 3}, chunk(3)) // 12 bytes > 10: a/1, the oldest, goes
	if _, ok := r.get(chunkRef{a, 1}); ok {
		t.Error("chunk a/1 kept over the budget")
	}
	for ref, want := range map[chunkRef]byte{{b, 1}: 2, {a, 3}: 3} {
		if got, ok := r.get(ref); !ok || got[0] != want {
			t.Errorf("chunk %v: %v, %v", ref, got, ok)
		}
	}
	r.add(chunkRef{a, 4}, make([]byte, 11)) // larger than the budget: not kept
	if _, ok := r.get(chunkRef{a, 4}); ok || r.size != 8 {
		t.Errorf("an oversize chunk was kept, or evicted others (size %d)", r.size)
	}
}

// emptyChunks is a store that holds nothing.
type emptyChunks struct{}

func (emptyChunks) Have(context.Context) (Bitfield, error) { return Bitfield{}, nil }
func (emptyChunks) ReadChunk(_ context.Context, i int) ([]byte, error) {
	return nil, fmt.Errorf("chunk %d: %w", i, ErrNoChunk)
}
func (emptyChunks) WriteChunk(context.Context, int, []byte) error { return nil }

// TestFileServesStoredChunksFromMemory: a chunk the file stored is read
// back from the node's recent chunks, not the store; others come from the
// store, and another file's chunk of the same index is not mixed in.
func TestFileServesStoredChunksFromMemory(t *testing.T) {
	m := NewManifest("x", "", 2*MinChunkSize, []Hash{{1}, {2}})
	other := NewManifest("y", "", 2*MinChunkSize, []Hash{{3}, {4}})
	recent := newRecentChunks(recentBytes)
	f := newFile(m, emptyChunks{}, NewBitfield(2), discardLogger())
	g := newFile(other, emptyChunks{}, NewBitfield(2), discardLogger())
	f.recent, g.recent = recent, recent
	f.stored(0, []byte("fresh"))
	got, err := f.readChunk(context.Background(), 0)
	if err != nil || string(got) != "fresh" {
		t.Fatalf("chunk 0: %q, %v; want it from memory", got, err)
	}
	if _, err := f.readChunk(context.Background(), 1); !errors.Is(err, ErrNoChunk) {
		t.Errorf("chunk 1: err %v, want the store's ErrNoChunk", err)
	}
	if _, err := g.readChunk(context.Background(), 0); !errors.Is(err, ErrNoChunk) {
		t.Errorf("another file's chunk 0: err %v, want the store's ErrNoChunk", err)
	}
}
