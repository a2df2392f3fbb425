package swarm

import "testing"

// TestDialledSideAnswersHello: on a connection the remote peer dialled, the
// file says nothing until the remote's hello, and then its hello is the
// first frame the remote gets, holding the chunks stored in between (no
// have for them before it). The dialling end of a browser's data channel
// can lose a message that arrives while it is still opening.
func TestDialledSideAnswersHello(t *testing.T) {
	data, m := testData(3, 1)
	w := newWire(t, data, m, nil, 0)
	quiet := w.connect("q", "q") // q dialled the file and has not spoken yet

	src := w.connect("s", "s")
	src.open(1)
	i := src.expect(kindRequest).Index
	src.serve(i)
	src.expect(kindHave) // chunk 1 is stored and announced

	w.call(func() {
		if w.f.conns["q"].greeted {
			t.Error("the file greeted a peer that dialled it before its hello")
		}
	})
	quiet.send(appendHello(nil, bitsOf(3)))
	fr, err := quiet.next()
	if err != nil {
		t.Fatal(err)
	}
	if fr.Kind != kindHello {
		t.Fatalf("first frame %v, want the hello", fr.Kind)
	}
	bf, _ := BitfieldFromBytes(3, fr.Have)
	if !bf.Has(0) || !bf.Has(1) {
		t.Errorf("the hello holds chunk 0: %v, chunk 1: %v; want both", bf.Has(0), bf.Has(1))
	}
}

// TestNoHaveToSeeder: a chunk stored is announced to a peer that misses
// it and not to one that holds every chunk, which has no use for it (in
// a one-seeder download that halves the small messages the leecher
// sends).
func TestNoHaveToSeeder(t *testing.T) {
	data, m := testData(2, 1)
	w := newWire(t, data, m, nil)
	seeder := w.connect("s", "s")
	seeder.open(0, 1)
	partial := w.connect("p", "p")
	partial.open()
	i := seeder.expect(kindRequest).Index
	seeder.serve(i)
	if h := partial.expect(kindHave); h.Index != i {
		t.Fatalf("the partial peer got a have for %d, want %d", h.Index, i)
	}
	// Every frame the file sent the seeder before answering this request
	// is read on the way: none may be a have.
	if err := seeder.tr.Send(w.ctx, appendIndex(nil, kindRequest, i)); err != nil {
		t.Fatal(err)
	}
	for {
		fr, err := seeder.next()
		if err != nil {
			t.Fatal(err)
		}
		if fr.Kind == kindHave {
			t.Fatalf("the seeder got a have for chunk %d", fr.Index)
		}
		if fr.Kind == kindPiece {
			break
		}
	}
}
