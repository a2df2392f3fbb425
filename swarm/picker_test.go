package swarm

import (
	"math/rand/v2"
	"testing"
)

func bitsOf(n int, set ...int) Bitfield {
	b := NewBitfield(n)
	for _, i := range set {
		b.Set(i)
	}
	return b
}

func newTestPicker(n int) *picker {
	return newPicker(NewBitfield(n), rand.New(rand.NewPCG(1, 2)))
}

func TestPickRarestFirst(t *testing.T) {
	p := newTestPicker(4)
	p.addPeer(bitsOf(4, 0, 1, 2, 3))
	p.addPeer(bitsOf(4, 0, 1, 3))
	p.addPeer(bitsOf(4, 0, 3))
	// Availability: 0:3 1:2 2:1 3:3. A peer with everything gets the rarest.
	all := bitsOf(4, 0, 1, 2, 3)
	asked := map[int]*assembly{}
	var order []int
	for range 4 {
		i, ok := p.pick(all, asked, false)
		if !ok {
			t.Fatal("nothing picked")
		}
		asked[i] = &assembly{}
		p.inflight[i]++
		order = append(order, i)
	}
	if order[0] != 2 || order[1] != 1 {
		t.Fatalf("order %v, want 2 then 1 first", order)
	}
	if _, ok := p.pick(all, asked, false); ok {
		t.Fatal("picked a chunk already requested outside the endgame")
	}
}

func TestPickOnlyWhatPeerHasAndWeLack(t *testing.T) {
	p := newTestPicker(3)
	p.have.Set(0)
	p.busy.Set(1)
	p.addPeer(bitsOf(3, 0, 1))
	if i, ok := p.pick(bitsOf(3, 0, 1), nil, false); ok {
		t.Fatalf("picked %d: held or being verified", i)
	}
	p.addPeer(bitsOf(3, 2))
	if i, ok := p.pick(bitsOf(3, 2), nil, false); !ok || i != 2 {
		t.Fatalf("picked %d %v, want 2", i, ok)
	}
}

func TestPickTiesAreRandom(t *testing.T) {
	p := newTestPicker(16)
	all := NewBitfield(16)
	for i := range 16 {
		all.Set(i)
	}
	p.addPeer(all)
	seen := map[int]bool{}
	for range 200 {
		i, _ := p.pick(all, nil, false)
		seen[i] = true
	}
	if len(seen) < 8 {
		t.Fatalf("only %d distinct picks among 16 equally rare chunks", len(seen))
	}
}

func TestEndgameDuplicatesAndBounds(t *testing.T) {
	p := newTestPicker(2)
	all := bitsOf(2, 0, 1)
	for range 4 {
		p.addPeer(all)
	}
	slow := map[int]*assembly{0: {}, 1: {}}
	p.inflight[0], p.inflight[1] = 1, 1
	if !p.endgame() {
		t.Fatal("every wanted chunk is requested: want endgame")
	}
	if _, ok := p.pick(all, map[int]*assembly{}, false); ok {
		t.Fatal("duplicate request outside the endgame")
	}
	if _, ok := p.pick(all, slow, true); ok {
		t.Fatal("asked the same peer twice for a chunk")
	}
	// Another peer takes the least-requested chunk.
	p.inflight[0] = 2
	if i, ok := p.pick(all, map[int]*assembly{}, true); !ok || i != 1 {
		t.Fatalf("endgame picked %d %v, want 1", i, ok)
	}
	p.inflight[0], p.inflight[1] = maxDuplicates, maxDuplicates
	if _, ok := p.pick(all, map[int]*assembly{}, true); ok {
		t.Fatal("more than maxDuplicates requests for one chunk")
	}
}

// TestReassignOnPeerLoss drives a file's loop state directly: when a peer
// goes, its requests return to the pool and another peer gets them.
func TestReassignOnPeerLoss(t *testing.T) {
	data := make([]byte, 3*MinChunkSize)
	hashes := []Hash{HashChunk(data[:MinChunkSize]), HashChunk(data[MinChunkSize : 2*MinChunkSize]), HashChunk(data[2*MinChunkSize:])}
	m := NewManifest("x", "", int64(len(data)), hashes)
	f := newFile(m, nil, NewBitfield(3), discardLogger())
	a := newPeerConn("a", "a", nopTransport{})
	b := newPeerConn("b", "b", nopTransport{})
	for _, c := range []*peerConn{a, b} {
		f.conns[c.id] = c
		f.totals[c.id] = &PeerStats{ID: c.id}
		c.hello, c.have = true, bitsOf(3, 0, 1, 2)
		f.pick.addPeer(c.have)
	}
	a.depth, b.depth = 3, 0
	f.schedule()
	if len(a.asked) != 3 {
		t.Fatalf("a asked for %d chunks, want 3", len(a.asked))
	}
	b.depth = 3
	f.drop(a, ErrClosed)
	f.schedule()
	if len(b.asked) != 3 {
		t.Fatalf("after a left, b asked for %d chunks, want 3", len(b.asked))
	}
	for i, n := range f.pick.inflight {
		if n != 1 {
			t.Fatalf("chunk %d has %d requests in flight, want 1", i, n)
		}
	}
	if f.pick.avail[0] != 1 {
		t.Fatalf("availability %v after a left", f.pick.avail)
	}
}
