package swarm

import "testing"

// TestTwoConnectionsOnePeer: of two connections between the same peers,
// the file keeps the same one whatever order they attach in, as the other
// end does: the one the lower peer ID opened, and of two one peer opened,
// the later session. Each end used to keep the one it attached first;
// when the two ends attached them in different orders, each waited for a
// hello on the connection the other had closed.
func TestTwoConnectionsOnePeer(t *testing.T) {
	data, m := testData(3, 1)
	for _, c := range []struct {
		name        string
		first, then Conn
		keepFirst   bool
	}{
		{"one peer's two sessions, the later second", Conn{Peer: "p", Initiator: "p", Session: "01"}, Conn{Peer: "p", Initiator: "p", Session: "02"}, false},
		{"one peer's two sessions, the later first", Conn{Peer: "p", Initiator: "p", Session: "02"}, Conn{Peer: "p", Initiator: "p", Session: "01"}, true},
		{"dialled at once, the lower ID's first", Conn{Peer: "p", Initiator: "a", Session: "09"}, Conn{Peer: "p", Initiator: "p", Session: "01"}, true},
		{"dialled at once, the lower ID's second", Conn{Peer: "p", Initiator: "p", Session: "01"}, Conn{Peer: "p", Initiator: "a", Session: "09"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWire(t, data, m, nil, 0)
			first := w.attach(c.first, 0)
			first.open()
			then := w.attach(c.then, 0)
			kept, closed := then, first
			if c.keepFirst {
				kept, closed = first, then
			} else {
				kept.open()
			}
			if !closed.closed() {
				t.Error("the connection both ends drop is still open")
			}
			if !kept.alive(0) {
				t.Error("the connection both ends keep was dropped")
			}
		})
	}
}
