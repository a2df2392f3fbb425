package swarm

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// lie has r send chunk i with one byte flipped, and checks that the file
// drops r for it.
func (r *remote) lie(i int) {
	r.t.Helper()
	bad := slices.Clone(r.w.data[i*MinChunkSize : (i+1)*MinChunkSize])
	bad[7] ^= 1
	for off := 0; off < len(bad); off += BlockSize {
		r.send(appendPiece(nil, i, off, bad[off:off+BlockSize]))
	}
	if !r.closed() {
		r.t.Fatal("liar not dropped")
	}
}

// failed returns the file's error once it has ended, or nil while it runs.
func (w *wire) failed() (error, bool) {
	select {
	case <-w.f.done:
		return w.f.err, true
	default:
		return nil, false
	}
}

// stalledOnLiar starts a file of two chunks whose only peer lies about the
// first one it is asked for, and returns it a second into its stall.
func stalledOnLiar(t *testing.T, seed uint64) *wire {
	t.Helper()
	data, m := testData(2, seed)
	w := newWire(t, data, m, nil)
	r := w.connect("liar", "liar")
	r.open(0, 1)
	r.lie(r.expect(kindRequest).Index)
	w.advance(time.Second)
	return w
}

// TestLiarsOnlyEndsDownload: a download whose only peer lied stalls, waits
// defaultLiarGrace for an honest peer, and then ends with ErrLyingPeer.
func TestLiarsOnlyEndsDownload(t *testing.T) {
	w := stalledOnLiar(t, 3)
	w.advance(defaultLiarGrace - time.Second)
	if err, done := w.failed(); done {
		t.Fatalf("ended %v before the grace was over", err)
	}
	var state State
	w.call(func() { state = w.f.state })
	if state != StateStalled {
		t.Fatalf("state %s during the grace, want %s", state, StateStalled)
	}
	w.advance(2 * time.Second)
	err, done := w.failed()
	if !done || !errors.Is(err, ErrLyingPeer) {
		t.Fatalf("after the grace: err %v (ended %v), want ErrLyingPeer", err, done)
	}
	if got := w.f.stats.Load(); got.State != StateError || got.Error != err.Error() {
		t.Fatalf("stats say %s %q, want error %q", got.State, got.Error, err)
	}
	if held := w.held(); len(held) != 0 {
		t.Fatalf("stored chunks %v from the liar", held)
	}
}

// TestHonestPeerInGraceFinishes: an honest peer that comes during the grace
// ends the stall, and the download completes with no error; the wait
// starts again at the next stall.
func TestHonestPeerInGraceFinishes(t *testing.T) {
	w := stalledOnLiar(t, 4)
	w.advance(defaultLiarGrace - 2*time.Second)

	h := w.connect("honest", "honest")
	h.open(0)
	h.serve(h.expect(kindRequest).Index)
	h.expect(kindHave)
	h.tr.Close()
	w.advance(time.Second)
	// Chunk 1 is nowhere now: a new stall, with its own full grace.
	w.advance(defaultLiarGrace - time.Second)
	if err, done := w.failed(); done {
		t.Fatalf("ended %v: the honest peer did not restart the wait", err)
	}
	h2 := w.connect("honest2", "honest2")
	h2.open(0, 1)
	i := h2.expect(kindRequest).Index
	h2.serve(i)
	w.stored(i)
	err, done := w.failed()
	if !done || err != nil {
		t.Fatalf("err %v (ended %v), want a completed download", err, done)
	}
	if held := w.held(); !slices.Equal(held, []int{0, 1}) {
		t.Fatalf("held %v", held)
	}
}
