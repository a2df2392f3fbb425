package rtc

import (
	"context"
	"fmt"
	"testing"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// TestSessionCapsPerDirection: offers from one peer take at most
// maxPerPeer incoming slots, offers from many at most maxIncoming, and
// neither takes the outgoing slots this peer needs to fetch what it
// misses. No slot is given before a peer connection would be made.
func TestSessionCapsPerDirection(t *testing.T) {
	c := New(Options{Tracker: "ws://127.0.0.1:1/ws"})
	var d swarm.Hash
	for i := range maxPerPeer + 3 {
		_, ok := c.reserve(sessionKey{remote: "flood", id: fmt.Sprint(i), incoming: true}, d)
		if ok != (i < maxPerPeer) {
			t.Fatalf("offer %d from one peer: reserved %v", i, ok)
		}
	}
	for i := range maxIncoming {
		c.reserve(sessionKey{remote: fmt.Sprint("peer", i), id: "s", incoming: true}, d)
	}
	if c.count[1] != maxIncoming {
		t.Fatalf("%d incoming sessions, want the cap %d", c.count[1], maxIncoming)
	}
	if _, ok := c.reserve(sessionKey{remote: "one-more", id: "s", incoming: true}, d); ok {
		t.Fatal("an incoming session past the cap")
	}
	for i := range maxOutgoing {
		if _, ok := c.reserve(sessionKey{remote: fmt.Sprint("seed", i), id: newSessionID()}, d); !ok {
			t.Fatalf("outgoing session %d refused while incoming ones fill their cap", i)
		}
	}
	if _, ok := c.reserve(sessionKey{remote: "x", id: newSessionID()}, d); ok {
		t.Fatal("an outgoing session past the cap")
	}
	// Ending a session frees its slot.
	c.mu.Lock()
	s := c.sessions[sessionKey{remote: "flood", id: "0", incoming: true}]
	c.mu.Unlock()
	c.endSession(s)
	if _, ok := c.reserve(sessionKey{remote: "flood", id: "again", incoming: true}, d); !ok {
		t.Fatal("a freed slot was not given back")
	}
}

// TestSessionKeysCannotCollide: a remote peer that sends an offer with
// the ID of another session, ours or another peer's, gets a session of
// its own, and its answer cannot touch a session it does not own.
func TestSessionKeysCannotCollide(t *testing.T) {
	c := New(Options{Tracker: "ws://127.0.0.1:1/ws"})
	var d swarm.Hash
	ours, ok := c.reserve(sessionKey{remote: "good", id: "abc"}, d)
	if !ok {
		t.Fatal("outgoing session refused")
	}
	theirs, ok := c.reserve(sessionKey{remote: "good", id: "abc", incoming: true}, d)
	if !ok {
		t.Fatal("an incoming session with the ID of an outgoing one was refused")
	}
	if _, ok := c.reserve(sessionKey{remote: "good", id: "abc", incoming: true}, d); ok {
		t.Fatal("a second offer with a taken key replaced the first")
	}
	evil, ok := c.reserve(sessionKey{remote: "evil", id: "abc", incoming: true}, d)
	if !ok {
		t.Fatal("another peer's offer with the same session ID was refused")
	}
	c.mu.Lock()
	n := len(c.sessions)
	c.mu.Unlock()
	if n != 3 || ours == theirs || ours == evil {
		t.Fatalf("%d sessions, want 3 distinct", n)
	}
	// An answer from evil naming our session to good is ignored: the
	// session has no peer connection yet, and it must not end.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.ctx = ctx
	c.signal(ctx, "evil", d.String(), signaling.Signal{Kind: signaling.SignalAnswer, Session: "abc", SDP: "v=0"})
	select {
	case <-ours.ended:
		t.Fatal("another peer's answer ended our session")
	default:
	}
}
