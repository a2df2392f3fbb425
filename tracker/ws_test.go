package tracker

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
)

func TestWelcome(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a, b := s.dial(t), s.dial(t)
	for _, p := range []*rawPeer{a, b} {
		if raw, err := hex.DecodeString(p.id); err != nil || len(raw) != 16 {
			t.Errorf("peer ID %q is not 16 bytes in hex", p.id)
		}
	}
	if a.id == b.id {
		t.Errorf("two connections got the same ID %s", a.id)
	}
}

func TestAnnounceQuery(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a, b := s.dial(t), s.dial(t)
	f := newFile(t, 3<<20)

	a.mustOK(f.announce(1, 2, false))
	r := b.request(signaling.Message{Type: signaling.TypeQuery, ID: 9, Digest: f.digest()})
	if r.Type != signaling.TypePeers || r.Digest != f.digest() {
		t.Fatalf("query reply %+v", r)
	}
	if want := []signaling.PeerInfo{{ID: a.id, Have: 2}}; !slices.Equal(r.Peers, want) {
		t.Errorf("peers %+v, want %+v", r.Peers, want)
	}
	if string(r.Manifest) != string(f.raw) {
		t.Errorf("manifest differs:\n got %s\nwant %s", r.Manifest, f.raw)
	}

	// The asker is never in its own answer.
	r = a.request(signaling.Message{Type: signaling.TypeQuery, ID: 2, Digest: f.digest()})
	if r.Type != signaling.TypePeers || len(r.Peers) != 0 {
		t.Errorf("asker's own query %+v, want no peers", r)
	}

	// A known swarm takes announces without a manifest; complete means all.
	b.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 3, Digest: f.digest(), Complete: true})
	status, fi := s.apiFile(t, f.digest())
	want := []signaling.PeerInfo{{ID: a.id, Have: 2}, {ID: b.id, Have: f.m.NumChunks(), Complete: true}}
	if status != http.StatusOK || len(fi.Peers) != 2 || !slices.Contains(fi.Peers, want[0]) || !slices.Contains(fi.Peers, want[1]) {
		t.Errorf("api: %d %+v, want peers %+v", status, fi.Peers, want)
	}
	if m := a.recv(); m.Type != signaling.TypePeers || m.ID != 0 || m.Peers[0] != want[1] {
		t.Errorf("a got %+v, want a notice about seeder b", m)
	}

	// Leave, then the swarm empties and is forgotten.
	a.mustOK(signaling.Message{Type: signaling.TypeLeave, ID: 4, Digest: f.digest()})
	b.mustOK(signaling.Message{Type: signaling.TypeLeave, ID: 5, Digest: f.digest()})
	if status, _ := s.apiFile(t, f.digest()); status != http.StatusNotFound {
		t.Errorf("after everyone left: status %d, want 404", status)
	}
	wantError(t, b.request(signaling.Message{Type: signaling.TypeQuery, ID: 6, Digest: f.digest()}), signaling.CodeUnknownFile, 6)
}

func TestQueryPrefersSeedersAndBounds(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxPeersPerReply: 3})
	f := newFile(t, 64<<20)
	seed := s.dial(t)
	seed.mustOK(f.announce(1, 0, true))
	for range 6 {
		s.dial(t).mustOK(f.announce(1, 0, false))
	}
	asker := s.dial(t)
	first := 0
	for i := range 20 {
		r := asker.request(signaling.Message{Type: signaling.TypeQuery, ID: uint64(i + 1), Digest: f.digest()})
		if len(r.Peers) != 3 {
			t.Fatalf("%d peers, want MaxPeersPerReply 3", len(r.Peers))
		}
		if r.Peers[0].ID == seed.id {
			first++
		}
	}
	// A seeder weighs 2*(chunks+1) = 130 against 1 for each of 6 empty
	// leechers: it comes first with probability 130/136 per query.
	if first < 12 {
		t.Errorf("the seeder came first in %d of 20 replies, want nearly all", first)
	}
}

func TestNewcomerNotice(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 4<<20)
	leech, seed := s.dial(t), s.dial(t)
	leech.mustOK(f.announce(1, 0, false))
	seed.mustOK(f.announce(1, 0, true))
	if m := leech.recv(); m.Type != signaling.TypePeers || m.ID != 0 || !slices.Equal(peerIDs(m.Peers), []string{seed.id}) {
		t.Fatalf("leecher got %+v, want a notice about the seeder", m)
	}

	// A second leecher: the first leecher hears of it, the seeder does not.
	leech2 := s.dial(t)
	leech2.mustOK(f.announce(1, 1, false))
	if m := leech.recv(); m.Type != signaling.TypePeers || m.ID != 0 || m.Peers[0].ID != leech2.id || m.Peers[0].Have != 1 {
		t.Fatalf("leecher got %+v, want a notice about leecher 2", m)
	}
	// Progress is not news; completing is.
	leech2.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 2, Digest: f.digest(), Have: 2})
	leech2.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 3, Digest: f.digest(), Complete: true})
	if m := leech.recv(); m.Type != signaling.TypePeers || m.Peers[0].ID != leech2.id || !m.Peers[0].Complete {
		t.Fatalf("leecher got %+v, want a notice that leecher 2 completed", m)
	}
	// The seeder's next message is the reply to its own query: no notices.
	if m := seed.request(signaling.Message{Type: signaling.TypeQuery, ID: 7, Digest: f.digest()}); m.Type != signaling.TypePeers {
		t.Fatalf("seeder got %+v", m)
	}
	// Nor did the leecher get a notice for the progress announce.
	if m := leech.request(signaling.Message{Type: signaling.TypeQuery, ID: 8, Digest: f.digest()}); m.Type != signaling.TypePeers {
		t.Fatalf("leecher got %+v", m)
	}
}

func TestNewcomerNoticeBounded(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxNotify: 2})
	f := newFile(t, 1<<20)
	leechers := make([]*rawPeer, 5)
	for i := range leechers {
		leechers[i] = s.dial(t)
		leechers[i].mustOK(f.announce(1, 0, false))
	}
	// Drain the notices about later leechers, then count those about the
	// seeder.
	seed := s.dial(t)
	countNotices(t, leechers)
	seed.mustOK(f.announce(1, 0, true))
	if n := countNotices(t, leechers); n != 2 {
		t.Errorf("%d leechers heard of the seeder, want MaxNotify 2", n)
	}
}

// countNotices drains each peer up to the reply to a query and returns how
// many notices came first, in total.
func countNotices(t *testing.T, peers []*rawPeer) int {
	n := 0
	for _, p := range peers {
		p.send(signaling.Message{Type: signaling.TypeQuery, ID: 99, Digest: "00"})
		for {
			m := p.recv()
			if m.ID == 99 {
				break
			}
			n++
		}
	}
	return n
}

func TestSignalRelay(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 1<<20)
	a, b := s.dial(t), s.dial(t)
	a.mustOK(f.announce(1, 0, true))
	// b has only queried, as a downloader does before it dials.
	if r := b.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: f.digest()}); r.Type != signaling.TypePeers {
		t.Fatalf("query: %+v", r)
	}
	offer := &signaling.Signal{Kind: signaling.SignalOffer, Session: "s1", SDP: "v=0\r\n..."}
	upper := strings.ToUpper(f.digest())

	b.mustOK(signaling.Message{Type: signaling.TypeSignal, ID: 5, To: a.id, From: "spoofed", PeerID: "spoofed", Digest: upper, Signal: offer})
	m := a.recv()
	if m.Type != signaling.TypeSignal || m.ID != 0 || m.From != b.id || m.To != a.id || m.PeerID != "" || *m.Signal != *offer || m.Digest != f.digest() {
		t.Fatalf("relayed %+v, want the offer from %s with ID 0", m, b.id)
	}

	// The answer goes back, once; without an ID there is no ok.
	answer := signaling.Message{Type: signaling.TypeSignal, To: b.id, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalAnswer, Session: "s1", SDP: "v=0"}}
	a.send(answer)
	if m := b.recv(); m.Type != signaling.TypeSignal || m.Signal.Kind != signaling.SignalAnswer || m.From != a.id || m.Signal.Session != "s1" {
		t.Fatalf("relayed %+v", m)
	}
	answer.ID = 7
	wantError(t, a.request(answer), signaling.CodeNoOffer, 7)

	// Close goes either way between members.
	a.mustOK(signaling.Message{Type: signaling.TypeSignal, ID: 8, To: b.id, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalClose, Session: "s1"}})
	if m := b.recv(); m.Type != signaling.TypeSignal || m.Signal.Kind != signaling.SignalClose {
		t.Fatalf("relayed %+v", m)
	}

	wantError(t, a.request(signaling.Message{Type: signaling.TypeSignal, ID: 6, To: "nobody", Digest: f.digest(), Signal: offer}), signaling.CodeUnknownPeer, 6)
	a.send(signaling.Message{Type: signaling.TypeSignal, To: "nobody", Digest: f.digest(), Signal: offer})
	wantError(t, a.recv(), signaling.CodeUnknownPeer, 0)
}

// TestOfferExpires: an offer can be answered for OfferTTL only.
func TestOfferExpires(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{OfferTTL: time.Minute})
	advance := s.fakeClock()
	f := newFile(t, 1<<20)
	a, b := s.dial(t), s.dial(t)
	a.mustOK(f.announce(1, 0, true))
	b.mustOK(f.announce(1, 0, false))
	b.mustOK(signaling.Message{Type: signaling.TypeSignal, ID: 2, To: a.id, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "late"}})
	if m := a.recv(); m.Type != signaling.TypeSignal {
		t.Fatalf("a got %+v, want the offer", m)
	}
	advance(time.Minute)
	wantError(t, a.request(signaling.Message{Type: signaling.TypeSignal, ID: 3, To: b.id, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalAnswer, Session: "late"}}), signaling.CodeNoOffer, 3)
}

// TestPendingOffersBounded: a peer may have MaxPendingOffers unanswered
// offers; expired ones make room.
func TestPendingOffersBounded(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxPendingOffers: 3, OfferTTL: time.Minute})
	advance := s.fakeClock()
	f := newFile(t, 1<<20)
	a, b := s.dial(t), s.dial(t)
	a.mustOK(f.announce(1, 0, true))
	b.mustOK(f.announce(1, 0, false))
	offer := func(id uint64, session string) signaling.Message {
		return signaling.Message{Type: signaling.TypeSignal, ID: id, To: a.id, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: session}}
	}
	for i := range 3 {
		b.mustOK(offer(uint64(10+i), fmt.Sprint("s", i)))
	}
	b.mustOK(offer(13, "s0")) // the same offer again takes no more room
	before := s.reg.snapshot()
	wantError(t, b.request(offer(14, "s3")), signaling.CodeRateLimited, 14)
	if after := s.reg.snapshot(); after != before {
		t.Fatalf("state changed:\n%s\nto\n%s", before, after)
	}
	advance(2 * time.Minute)
	b.mustOK(offer(15, "s3"))
}

func TestDisconnectCleansUp(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f, g := newFile(t, 1<<20), newFile(t, 2<<20)
	a, b := s.dial(t), s.dial(t)
	a.mustOK(f.announce(1, 0, true))
	a.mustOK(g.announce(2, 0, true))
	b.mustOK(g.announce(1, 0, false))

	a.ws.CloseNow()
	eventually(t, "a's swarm to go", func() bool {
		status, _ := s.apiFile(t, f.digest())
		return status == http.StatusNotFound
	})
	status, fi := s.apiFile(t, g.digest())
	if status != http.StatusOK || !slices.Equal(peerIDs(fi.Peers), []string{b.id}) {
		t.Errorf("g: %d %+v, want only b", status, fi)
	}
	if peers, swarms := s.reg.counts(); peers != 1 || swarms != 1 {
		t.Errorf("%d peers, %d swarms, want 1 and 1", peers, swarms)
	}
	// The gone peer is unknown to signals.
	wantError(t, b.request(signaling.Message{Type: signaling.TypeSignal, ID: 3, To: a.id, Digest: g.digest(), Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "s"}}), signaling.CodeUnknownPeer, 3)
}

func TestMaxSwarmsPerPeer(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxSwarmsPerPeer: 2})
	a := s.dial(t)
	a.mustOK(newFile(t, 1).announce(1, 0, true))
	a.mustOK(newFile(t, 2).announce(2, 0, true))
	before := s.reg.snapshot()
	f := newFile(t, 3)
	wantError(t, a.request(f.announce(3, 0, true)), signaling.CodeRateLimited, 3)
	if after := s.reg.snapshot(); after != before {
		t.Errorf("state changed:\n%s\nto\n%s", before, after)
	}
}

func TestRateLimit(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MessageRate: 1, MessageBurst: 3})
	a := s.dial(t)
	limited := 0
	for i := range 10 {
		r := a.request(signaling.Message{Type: signaling.TypeQuery, ID: uint64(i + 1), Digest: newFile(t, 1).digest()})
		if r.Error != nil && r.Error.Code == signaling.CodeRateLimited {
			limited++
		}
	}
	if limited < 5 {
		t.Errorf("%d of 10 quick messages rate limited, want at least 5 (burst 3, 1/s)", limited)
	}
}

func TestMaxPeers(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxPeers: 1})
	s.dial(t)
	resp, err := http.Get(s.base + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second connection: status %d, want 503", resp.StatusCode)
	}
}

// TestIdlePing: the tracker pings a peer it has sent nothing to for a ping
// interval, again and again while it stays idle, and drops one that does
// not answer the pings.
func TestIdlePing(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{PingInterval: 50 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var pings atomic.Int32
	ws, _, err := websocket.Dial(ctx, s.wsURL(), &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		pings.Add(1)
		return true
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	go func() { // reads the welcome, and answers the pings meanwhile
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	eventually(t, "two pings", func() bool { return pings.Load() >= 2 })

	silent := s.dial(t) // reads nothing more: no pong
	eventually(t, "the silent peer to be dropped", func() bool { return s.reg.peer(silent.id) == nil })
}
