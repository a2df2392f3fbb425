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
