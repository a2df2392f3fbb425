package swarm

import "testing"

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
