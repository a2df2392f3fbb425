package tracker

import (
	"strconv"
	"testing"

	"tabswarm/signaling"
)

// BenchmarkRelay bounces a signal between two peers through a tracker on
// loopback: one op is an offer relayed one way and its answer the other,
// client work included.
func BenchmarkRelay(b *testing.B) {
	s := startServer(b, "127.0.0.1:0", Options{MessageRate: 1e9, MessageBurst: 1e9})
	f := newFile(b, 1<<20)
	a, c := s.dial(b), s.dial(b)
	a.mustOK(f.announce(1, 0, true))
	if r := c.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: f.digest()}); r.Type != signaling.TypePeers {
		b.Fatalf("query: %+v", r)
	}
	signal := func(from, to *rawPeer, kind signaling.SignalKind, session string) {
		from.send(signaling.Message{Type: signaling.TypeSignal, To: to.id, Digest: f.digest(),
			Signal: &signaling.Signal{Kind: kind, Session: session, SDP: "v=0"}})
		if m := to.recv(); m.Type != signaling.TypeSignal || m.Signal.Kind != kind {
			b.Fatalf("got %+v, want a relayed %s", m, kind)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		session := "s" + strconv.Itoa(i)
		signal(a, c, signaling.SignalOffer, session)
		signal(c, a, signaling.SignalAnswer, session)
	}
}
