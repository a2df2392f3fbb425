package swarm

import (
	"context"
	"slices"
	"testing"
	"time"
)

// What a remote peer gets from the file for what it did.
const (
	kept    = "kept"    // the frame is ignored or handled; the connection stays
	dropped = "dropped" // the connection is closed; the peer may come back
	evicted = "evicted" // closed, and the peer is not taken back for evictFor
	banned  = "banned"  // closed, and the peer is never taken back for this file
)

// outcome works out what happened to peer id, whose connection is r.
func (w *wire) outcome(id string, r *remote) string {
	w.t.Helper()
	if r.alive(2) {
		return kept
	}
	var ban string
	var evictedUntil time.Time
	w.call(func() {
		w.f.mu.Lock()
		ban, evictedUntil = w.f.banned[id], w.f.evicted[id]
		w.f.mu.Unlock()
	})
	switch {
	case ban != "":
		return banned
	case evictedUntil.After(w.clock.Now()):
		return evicted
	}
	return dropped
}

// TestWireStateMachine plays hostile and unlucky remote peers against a
// file of three chunks that holds chunk 0, over in-memory pipes on a fake
// clock, and checks what each peer gets and what the file keeps.
func TestWireStateMachine(t *testing.T) {
	data, m := testData(3, 1)
	chunk := func(i int) []byte { return data[i*MinChunkSize : (i+1)*MinChunkSize] }
	cases := []struct {
		name  string
		peer  string // what the peer gets
		keeps []int  // the chunks the file holds after
		run   func(*testing.T, *wire) *remote
	}{
		{"second hello", dropped, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1, 2)
			r.send(appendHello(nil, bitsOf(3, 1)))
			return r
		}},
		{"data before hello", dropped, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "z") // the file dialled: its hello comes first
			r.expect(kindHello)
			r.send(appendIndex(nil, kindHave, 1))
			return r
		}},
		{"hello for another chunk count", dropped, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.send(appendHello(nil, bitsOf(4, 1)))
			return r
		}},
		{"piece at a bad offset", dropped, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1)
			i := r.expect(kindRequest).Index
			r.send(appendPiece(nil, i, BlockSize, chunk(i)[BlockSize:2*BlockSize]))
			return r
		}},
		{"piece of a chunk never requested", dropped, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1)
			r.expect(kindRequest)
			r.send(appendPiece(nil, 2, 0, chunk(2)[:BlockSize]))
			return r
		}},
		{"request past the last chunk", dropped, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open()
			r.send(appendIndex(nil, kindRequest, 3))
			return r
		}},
		{"reject", kept, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1)
			i := r.expect(kindRequest).Index
			r.send(appendIndex(nil, kindReject, i))
			r.alive(2)
			w.call(func() {
				c := w.f.conns["p"]
				if c.asked[i] != nil || c.have.Has(i) || w.f.pick.avail[i] != 0 {
					t.Errorf("after a reject of %d: still asked or counted as held", i)
				}
			})
			return r
		}},
		{"request timeout", evicted, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1, 2)
			r.expect(kindRequest)
			w.advance(requestTimeout / 2)
			if !r.alive(2) {
				t.Fatal("dropped before the timeout")
			}
			w.advance(requestTimeout/2 + time.Second)
			return r
		}},
		{"a lying peer", banned, []int{0}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1)
			i := r.expect(kindRequest).Index
			bad := slices.Clone(chunk(i))
			bad[7] ^= 1
			for off := 0; off < len(bad); off += BlockSize {
				r.send(appendPiece(nil, i, off, bad[off:off+BlockSize]))
			}
			if !r.closed() {
				t.Fatal("liar not dropped")
			}
			again := w.connect("p", "p")
			if !again.closed() {
				t.Error("a banned peer was taken back")
			}
			return r
		}},
		{"a complete chunk", kept, []int{0, 1}, func(t *testing.T, w *wire) *remote {
			r := w.connect("p", "p")
			r.open(1)
			i := r.expect(kindRequest).Index
			r.serve(i)
			if h := r.expect(kindHave); h.Index != i {
				t.Fatalf("have %d, want %d", h.Index, i)
			}
			return r
		}},
		{"blocks of a cancelled request", kept, []int{0, 1, 2}, func(t *testing.T, w *wire) *remote {
			slow := w.connect("s", "s")
			slow.open(1, 2)
			slow.expect(kindRequest)
			slow.expect(kindRequest)
			slow.serve(2)
			slow.expect(kindHave)
			// Only chunk 1 is missing, and asked: the endgame asks another
			// peer too, and cancels the slow one's request when the chunk
			// is in.
			fast := w.connect("f", "f")
			fast.open(1)
			if i := fast.expect(kindRequest).Index; i != 1 {
				t.Fatalf("endgame asked for %d", i)
			}
			fast.serve(1)
			fast.expect(kindHave) // chunk 1 is stored
			if c := slow.expect(kindCancel); c.Index != 1 {
				t.Fatalf("cancel of %d", c.Index)
			}
			slow.serve(1) // too late: ignored
			return slow
		}},
		{"both sides dial, ours first", kept, []int{0}, func(t *testing.T, w *wire) *remote {
			ours := w.connect("b", "z") // we are z and dialled b
			ours.open()
			theirs := w.connect("b", "b") // b dialled us at the same time
			theirs.open()
			if !ours.closed() {
				t.Error("the connection the higher ID opened was kept")
			}
			return theirs
		}},
		{"both sides dial, theirs first", kept, []int{0}, func(t *testing.T, w *wire) *remote {
			theirs := w.connect("b", "b")
			theirs.open()
			ours := w.connect("b", "z")
			if !ours.closed() {
				t.Error("the connection the higher ID opened was kept")
			}
			return theirs
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, data, m, nil, 0)
			r := tc.run(t, w)
			if got := w.outcome(r.id, r); got != tc.peer {
				t.Errorf("peer %s, want %s", got, tc.peer)
			}
			w.check()
			if got := w.held(); !slices.Equal(got, tc.keeps) {
				t.Errorf("file holds %v, want %v", got, tc.keeps)
			}
		})
	}
}

// TestWirePeerThatStopsReading: a peer that asks for chunks and stops
// reading blocks the file's writer for it, never the file: another peer is
// served meanwhile, and the reader that stopped is dropped once a send has
// waited requestTimeout.
func TestWirePeerThatStopsReading(t *testing.T) {
	data, m := testData(3, 2)
	w := newWire(t, data, m, nil, 0)
	stuck := w.connectPipe("s", "s", BlockSize)
	stuck.open()
	for range 4 {
		stuck.send(appendIndex(nil, kindRequest, 0))
	}
	// waitSending waits until the file's writer to id is (or is not) in a
	// send.
	waitSending := func(id string, want bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			var sending bool
			w.call(func() { sending = w.f.conns[id].sending.Load() != 0 })
			if sending == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the writer to %s: in a send %v, want %v", id, sending, want)
			}
		}
	}
	waitSending("s", true) // blocked
	other := w.connect("o", "o")
	other.open()
	if !other.alive(0) {
		t.Fatal("another peer was not served while one stopped reading")
	}
	// Take the rest of chunk 0 and let the writer finish its last send:
	// the clock jumps next, and a send under way across the jump would
	// look stuck.
	for got := BlockSize; got < MinChunkSize; got += BlockSize {
		other.expect(kindPiece)
	}
	waitSending("o", false)
	w.advance(requestTimeout + time.Second)
	if got := w.outcome("s", stuck); got != dropped {
		t.Errorf("peer that stopped reading: %s, want %s", got, dropped)
	}
	if !other.alive(2) {
		t.Error("the reading peer was dropped too")
	}
	if got := w.held(); !slices.Equal(got, []int{0}) {
		t.Errorf("file holds %v", got)
	}
}

// TestWireChunkInProgressHoldsOnlyItsBlocks: a peer that sends the first
// block of a 1 MiB chunk and then nothing makes the file hold that block,
// not the whole chunk, until it is evicted.
func TestWireChunkInProgressHoldsOnlyItsBlocks(t *testing.T) {
	const size = 4 * MinChunkSize
	data := make([]byte, size)
	m := NewManifest("big", "", size, []Hash{HashChunk(data)})
	if m.ChunkSize != size {
		t.Skipf("chunk size %d for a %d-byte file", m.ChunkSize, size)
	}
	w := newWire(t, data, m, nil)
	r := w.connect("p", "p")
	r.open(0)
	r.expect(kindRequest)
	r.send(appendPiece(nil, 0, 0, data[:BlockSize]))
	r.alive(0) // the block is handled
	var held int
	w.call(func() {
		for _, blk := range w.f.conns["p"].asked[0].blocks {
			held += cap(blk)
		}
	})
	if held > BlockSize+64 {
		t.Errorf("a chunk with one block in holds %d bytes, want about %d", held, BlockSize)
	}
	w.advance(requestTimeout + time.Second)
	if got := w.outcome("p", r); got != evicted {
		t.Errorf("silent peer: %s, want %s", got, evicted)
	}
}

// TestWireFakeSeederIsEvicted: a peer that says it has every chunk and
// sends nothing loses its slot after requestTimeout and is not taken back
// for evictFor; an honest peer that comes then gets the file done.
func TestWireFakeSeederIsEvicted(t *testing.T) {
	data, m := testData(4, 3)
	w := newWire(t, data, m, nil)
	fake := w.connect("fake", "fake")
	fake.open(0, 1, 2, 3)
	fake.expect(kindRequest)
	w.advance(requestTimeout + time.Second)
	if got := w.outcome("fake", fake); got != evicted {
		t.Errorf("fake seeder: %s, want %s", got, evicted)
	}
	if !w.f.skip("fake") || w.f.peerCount() != 0 {
		t.Error("the fake seeder keeps its slot, or would be taken back at once")
	}
	honest := w.connect("honest", "honest")
	honest.open(0, 1, 2, 3)
	go func() {
		for {
			fr, err := honest.next()
			if err != nil {
				return
			}
			if fr.Kind == kindRequest {
				chunk := data[fr.Index*MinChunkSize : (fr.Index+1)*MinChunkSize]
				for off := 0; off < len(chunk); off += BlockSize {
					if honest.tr.Send(context.Background(), appendPiece(nil, fr.Index, off, chunk[off:off+BlockSize])) != nil {
						return
					}
				}
			}
		}
	}()
	select {
	case <-w.f.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("no complete file; holds %v", w.held())
	}
	if w.f.err != nil || len(w.held()) != 4 {
		t.Fatalf("err %v, holds %v", w.f.err, w.held())
	}
	w.advance(evictFor)
	if w.f.skip("fake") {
		t.Error("an evicted peer is never taken back")
	}
}

// TestWireUselessPeersLeaveAFullFile: peers that say hello with nothing
// the file wants keep their slots while the file has room, and are evicted
// after requestTimeout once they fill every slot, so that a peer with the
// chunks can come in.
func TestWireUselessPeersLeaveAFullFile(t *testing.T) {
	data, m := testData(3, 6)
	for _, tc := range []struct {
		maxPeers int
		want     string
	}{{3, kept}, {2, evicted}} {
		w := newWire(t, data, m, nil, 0)
		w.f.maxPeers = tc.maxPeers
		a, b := w.connect("a", "a"), w.connect("b", "b")
		a.open(0) // only what the file has
		b.open()
		a.alive(2)
		b.alive(2)
		w.advance(requestTimeout + time.Second)
		for id, r := range map[string]*remote{"a": a, "b": b} {
			if got := w.outcome(id, r); got != tc.want {
				t.Errorf("%d slots, 2 useless peers: %s %s, want %s", tc.maxPeers, id, got, tc.want)
			}
		}
	}
}

// TestWirePrefersPeersThatDelivered: when pipelines refill, the peer that
// delivered the most is served first, so the last chunk nobody was asked
// for goes to it, not to a newcomer that sent nothing yet. Storage is held
// up so that the schedule pauses at maxBusy chunks being checked, then
// let go one chunk at a time.
func TestWirePrefersPeersThatDelivered(t *testing.T) {
	data, m := testData(maxBusy+2, 7)
	for trial := range 8 {
		w := newWire(t, data, m, nil)
		release := make(chan struct{})
		w.f.hash = func(ctx context.Context, b []byte) (Hash, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return HashChunk(b), nil
		}
		all := make([]int, m.NumChunks())
		for i := range all {
			all[i] = i
		}
		good := w.connect("good", "good")
		good.open(all...)
		for range maxBusy {
			good.serve(good.expect(kindRequest).Index)
		}
		good.alive(0) // every block is in: maxBusy chunks wait for the hash
		newcomer := w.connect("new", "new")
		newcomer.open(all...)
		newcomer.alive(0) // its hello is in; nothing is scheduled while storage lags
		last := -1
		w.call(func() {
			for i := range all {
				if w.f.pick.wanted(i) && w.f.pick.inflight[i] == 0 {
					last = i
				}
			}
		})
		release <- struct{}{} // one chunk is stored, one schedule runs
		w.until("a chunk stored", func() bool { return w.f.pick.held() > 0 })
		var toGood bool
		w.call(func() { toGood = w.f.conns["good"].asked[last] != nil })
		if !toGood {
			t.Fatalf("trial %d: chunk %d, the last, was not asked of the peer that delivered", trial, last)
		}
		close(release)
		w.check()
	}
}

// TestFirstChunkShowsAtOnce: the first chunk stored shows in the file's
// stats at once, not at the loop's next tick (up to 250 ms later), so a
// page shows a download starting as soon as it has.
func TestFirstChunkShowsAtOnce(t *testing.T) {
	data, m := testData(3, 1)
	w := newWire(t, data, m, nil)
	src := w.connect("s", "s")
	src.open(0, 1, 2)
	i := src.expect(kindRequest).Index
	src.serve(i)
	w.stored(i)
	if have := w.f.stats.Load().Have; have != 1 {
		t.Errorf("stats show %d chunks before the next tick, want 1", have)
	}
}

// TestNotStalledBeforeHello: a file whose only peer has connected but not
// yet said hello is downloading, not stalled (a page would show a stalled
// row for that moment); once the peer's hello shows it holds nothing the
// file lacks, the file is stalled.
func TestNotStalledBeforeHello(t *testing.T) {
	data, m := testData(3, 1)
	w := newWire(t, data, m, nil, 0)
	w.advance(tickInterval) // the loop runs: a first tick may find no time passed
	r := w.connect("p", "p")
	w.advance(tickInterval)
	if got := w.f.stats.Load().State; got != StateDownloading {
		t.Errorf("with a peer yet to say hello: %s, want %s", got, StateDownloading)
	}
	r.open(0)
	w.advance(tickInterval)
	if got := w.f.stats.Load().State; got != StateStalled {
		t.Errorf("with a peer holding nothing new: %s, want %s", got, StateStalled)
	}
}
