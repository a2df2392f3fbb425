package tracker

import (
	"bytes"
	"encoding/json"
	"testing"

	"tabswarm/signaling"
)

func TestRelayRoundTrip(t *testing.T) {
	f := newFile(t, 1<<20)
	h := relayHead{from: "aaaa", to: "bbbb", digest: f.m.Digest, signal: signaling.Signal{Kind: signaling.SignalAnswer, Session: "s1"}}
	frame := []byte(`{"type":"signal","sdp":"v=0"}`)
	b := appendRelay(nil, h, frame)
	got, gotFrame, err := parseRelay(b)
	if err != nil || got != h || !bytes.Equal(gotFrame, frame) {
		t.Fatalf("parseRelay = %+v, %q, %v; want %+v, %q", got, gotFrame, err, h, frame)
	}
	// Every cut short of the head, and another version, is refused.
	head := len(b) - len(frame)
	for n := range head {
		if _, _, err := parseRelay(b[:n]); err != errRelayDecode {
			t.Errorf("relay cut to %d of its %d head bytes: err %v", n, head, err)
		}
	}
	b[0] = relayVersion + 1
	if _, _, err := parseRelay(b); err != errRelayDecode {
		t.Errorf("another version: err %v", err)
	}
}

// FuzzParseRelay: no input panics, and what parses encodes to a relay
// that parses the same.
func FuzzParseRelay(f *testing.F) {
	f.Add(appendRelay(nil, relayHead{from: "a", to: "b", signal: signaling.Signal{Kind: "offer", Session: "s"}}, []byte("{}")))
	f.Add([]byte{relayVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, frame, err := parseRelay(b)
		if err != nil {
			return
		}
		again := appendRelay(nil, h, frame)
		if h2, frame2, err := parseRelay(again); err != nil || h2 != h || !bytes.Equal(frame2, frame) {
			t.Fatalf("%x parsed to %+v, %x; encoded again and parsed: %+v, %x, %v", b, h, frame, h2, frame2, err)
		}
	})
}

// TestServeRelayRefuses: a relay from another node that does not decode,
// or that breaks a rule on the receiver's side, gets the refusal back and
// delivers nothing.
func TestServeRelayRefuses(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a := s.dial(t)
	f := newFile(t, 1<<20)
	a.mustOK(f.announce(1, 0, false))
	n := busNode{s.Tracker}
	offer := func(to string) []byte {
		m := signaling.Message{Type: signaling.TypeSignal, From: "remote", To: to, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "s", SDP: "v=0"}}
		return relayOf(f.m.Digest, m)
	}
	good := offer(a.id)
	for _, c := range []struct {
		name string
		req  []byte
		code signaling.ErrorCode
	}{
		{"garbage", []byte("not a relay"), signaling.CodeBadMessage},
		{"a JSON message", mustMarshal(signaling.Message{Type: signaling.TypeSignal}), signaling.CodeBadMessage},
		{"cut short", good[:10], signaling.CodeBadMessage},
		{"to nobody", offer("nobody"), signaling.CodeUnknownPeer},
	} {
		var e signaling.Error
		if err := json.Unmarshal(n.ServeRelay(c.req), &e); err != nil || e.Code != c.code {
			t.Errorf("%s: reply %+v (%v), want %s", c.name, e, err, c.code)
		}
	}
	// Frames reach a in order: the first is the good relay's.
	if reply := n.ServeRelay(good); reply != nil {
		t.Fatalf("a good relay was refused: %s", reply)
	}
	if m := a.recv(); m.Type != signaling.TypeSignal || m.From != "remote" || m.Signal.SDP != "v=0" {
		t.Fatalf("a got %+v first, want the good offer from remote", m)
	}
}
