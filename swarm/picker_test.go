package swarm

import (
	"fmt"
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
		p.asked(i)
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
	p.received(0)
	p.stored(0)
	p.received(1) // being verified
	p.addPeer(bitsOf(3, 0, 1))
	if i, ok := p.pick(bitsOf(3, 0, 1), nil, false); ok {
		t.Fatalf("picked %d: held or being verified", i)
	}
	p.addPeer(bitsOf(3, 2))
	if i, ok := p.pick(bitsOf(3, 2), nil, false); !ok || i != 2 {
		t.Fatalf("picked %d %v, want 2", i, ok)
	}
	p.failed(1) // failed its hash: wanted again
	if i, ok := p.pick(bitsOf(3, 1), nil, false); !ok || i != 1 {
		t.Fatalf("picked %d %v after chunk 1 failed, want 1", i, ok)
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
	p.asked(0)
	p.asked(1)
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
	p.asked(0)
	if i, ok := p.pick(all, map[int]*assembly{}, true); !ok || i != 1 {
		t.Fatalf("endgame picked %d %v, want 1", i, ok)
	}
	for p.inflight[0] < maxDuplicates {
		p.asked(0)
	}
	for p.inflight[1] < maxDuplicates {
		p.asked(1)
	}
	if _, ok := p.pick(all, map[int]*assembly{}, true); ok {
		t.Fatal("more than maxDuplicates requests for one chunk")
	}
}

// TestReassignOnPeerLoss: when a peer goes, its requests return to the
// pool and another peer gets them; the counts match the requests out at
// every step.
func TestReassignOnPeerLoss(t *testing.T) {
	data, m := testData(3, 4)
	w := newWire(t, data, m, nil)
	a := w.connect("a", "a")
	a.open(0, 1, 2)
	askedA := map[int]bool{a.expect(kindRequest).Index: true, a.expect(kindRequest).Index: true}
	w.check()
	b := w.connect("b", "b")
	b.open(0, 1, 2)
	b.expect(kindRequest) // the third chunk
	w.check()
	a.tr.Close()
	if i := b.expect(kindRequest).Index; !askedA[i] {
		t.Errorf("b asked for %d, not one of a's %v", i, askedA)
	}
	w.check()
	w.call(func() {
		if w.f.pick.avail[0] != 1 {
			t.Errorf("availability %v after a left", w.f.pick.avail)
		}
	})
}

// TestPickerInvariantsUnderChurn: peers that serve, reject, send junk
// and leave, one after another, in a seeded random order; after every step the
// picker's in-flight counts equal the requests the connections hold, and
// no request is out for a chunk the file has. The file ends complete.
func TestPickerInvariantsUnderChurn(t *testing.T) {
	data, m := testData(12, 5)
	w := newWire(t, data, m, nil)
	r := rand.New(rand.NewPCG(5, 5))
	all := make([]int, m.NumChunks())
	for i := range all {
		all[i] = i
	}
	for round := 0; ; round++ {
		select {
		case <-w.f.done:
			if w.f.err != nil || len(w.held()) != m.NumChunks() {
				t.Fatalf("err %v, holds %v", w.f.err, w.held())
			}
			return
		default:
		}
		if round > 200 {
			t.Fatalf("not complete after %d rounds; holds %v", round, w.held())
		}
		id := fmt.Sprint("p", round) // a peer that comes back has a new ID
		p := w.connect(id, id)
		p.open(all...)
		for range 1 + r.IntN(4) {
			p.alive(0) // every request the file sent so far is in p.asked
			if len(p.asked) == 0 {
				break
			}
			fr := p.expect(kindRequest)
			switch r.IntN(4) {
			case 0:
				p.send(appendIndex(nil, kindReject, fr.Index))
			case 1:
				p.send(appendPiece(nil, fr.Index, 0, data[fr.Index*MinChunkSize:][:BlockSize]))
			default:
				p.serve(fr.Index)
			}
			p.alive(0)
			w.check()
			if t.Failed() {
				t.FailNow()
			}
		}
		p.tr.Close()
		w.check()
	}
}
