package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// TestBadInput sends every kind of bad message and checks that each gets a
// typed error with the request's ID and that nothing changed, both in the
// table and as /api/files shows it.
func TestBadInput(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a := s.dial(t)
	f := newFile(t, 5<<20)
	a.mustOK(f.announce(1, 3, false))
	other := newFile(t, 1<<20)

	tampered := *f.m
	tampered.Chunks = append([]swarm.Hash(nil), f.m.Chunks...)
	tampered.Chunks[0][0] ^= 1
	tamperedRaw, _ := json.Marshal(&tampered)
	bigName := *other.m
	bigName.Name = strings.Repeat("n", swarm.MaxNameLen+1)
	bigNameRaw, _ := json.Marshal(&bigName)

	d := f.digest()
	// b has queried f, c has announced it and offered b session "cb"; o
	// is in no swarm.
	b, c, o := s.dial(t), s.dial(t), s.dial(t)
	if r := b.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: d}); r.Type != signaling.TypePeers {
		t.Fatalf("query: %+v", r)
	}
	c.mustOK(f.announce(1, 0, true))
	for _, p := range []*rawPeer{a, b} {
		if m := p.recv(); m.Type != signaling.TypePeers || m.Peers[0].ID != c.id {
			t.Fatalf("notice %+v, want one about c", m)
		}
	}
	c.mustOK(signaling.Message{Type: signaling.TypeSignal, ID: 2, To: b.id, Digest: d, Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "cb"}})
	if m := b.recv(); m.Type != signaling.TypeSignal || m.From != c.id {
		t.Fatalf("b got %+v, want c's offer", m)
	}
	sig := `"digest":"` + d + `","signal":{"kind":"offer","session":"s"}`
	signal := func(id int, to, digest, kind, session string) string {
		return fmt.Sprintf(`{"type":"signal","id":%d,"to":%q,"digest":%q,"signal":{"kind":%q,"session":%q}}`, id, to, digest, kind, session)
	}
	cases := []struct {
		name  string
		frame string
		code  signaling.ErrorCode
		id    uint64
	}{
		{"not JSON", `hello`, signaling.CodeBadMessage, 0},
		{"empty", ``, signaling.CodeBadMessage, 0},
		{"array", `[1,2]`, signaling.CodeBadMessage, 0},
		{"wrong field type", `{"type":"announce","id":7,"digest":"` + d + `","have":"x"}`, signaling.CodeBadMessage, 7},
		{"id of wrong type", `{"type":"query","id":"7"}`, signaling.CodeBadMessage, 0},
		{"unknown field", `{"type":"query","id":3,"digest":"` + d + `","bogus":1}`, signaling.CodeBadMessage, 3},
		{"trailing data", `{"type":"query","id":4,"digest":"` + d + `"}{}`, signaling.CodeBadMessage, 0},
		{"no type", `{"id":6}`, signaling.CodeUnknownType, 6},
		{"tracker-only type", `{"type":"welcome","id":5,"peer_id":"x"}`, signaling.CodeUnknownType, 5},
		{"unknown type", `{"type":"steal","id":5}`, signaling.CodeUnknownType, 5},
		{"announce bad digest", `{"type":"announce","id":8,"digest":"zz"}`, signaling.CodeBadDigest, 8},
		{"announce no digest", `{"type":"announce","id":8}`, signaling.CodeBadDigest, 8},
		{"announce non-hex digest", `{"type":"announce","id":8,"digest":"` + strings.Repeat("g", 64) + `"}`, signaling.CodeBadDigest, 8},
		{"query bad digest", `{"type":"query","id":9,"digest":"abc"}`, signaling.CodeBadDigest, 9},
		{"leave bad digest", `{"type":"leave","id":10,"digest":"abc"}`, signaling.CodeBadDigest, 10},
		{"manifest of another file", announceFrame(11, d, other.raw, 0, false), signaling.CodeBadManifest, 11},
		{"manifest tampered", announceFrame(12, d, tamperedRaw, 0, false), signaling.CodeBadManifest, 12},
		{"manifest not a manifest", announceFrame(13, other.digest(), []byte(`{"x":1}`), 0, false), signaling.CodeBadManifest, 13},
		{"manifest name too long", announceFrame(14, other.digest(), bigNameRaw, 0, false), signaling.CodeBadManifest, 14},
		{"manifest wrong shape", announceFrame(15, other.digest(), []byte(`[1]`), 0, false), signaling.CodeBadManifest, 15},
		{"announce unknown file without manifest", announceFrame(16, other.digest(), nil, 0, false), signaling.CodeUnknownFile, 16},
		{"have negative", announceFrame(17, d, nil, -1, false), signaling.CodeBadMessage, 17},
		{"have too many", announceFrame(18, d, nil, f.m.NumChunks()+1, false), signaling.CodeBadMessage, 18},
		{"have too many for a new file", announceFrame(19, other.digest(), other.raw, other.m.NumChunks()+1, false), signaling.CodeBadMessage, 19},
		{"query unknown file", `{"type":"query","id":20,"digest":"` + other.digest() + `"}`, signaling.CodeUnknownFile, 20},
		{"signal without to", `{"type":"signal","id":21,` + sig + `}`, signaling.CodeBadMessage, 21},
		{"signal without payload", `{"type":"signal","id":22,"to":"` + a.id + `x"}`, signaling.CodeBadMessage, 22},
		{"signal without kind", `{"type":"signal","id":23,"to":"x","signal":{"session":"s"}}`, signaling.CodeBadMessage, 23},
		{"signal to self", `{"type":"signal","id":24,"to":"` + a.id + `",` + sig + `}`, signaling.CodeBadMessage, 24},
		{"signal to unknown peer", `{"type":"signal","id":25,"to":"nobody",` + sig + `}`, signaling.CodeUnknownPeer, 25},
		{"signal payload wrong shape", `{"type":"signal","id":26,"to":"x","signal":"offer"}`, signaling.CodeBadMessage, 26},
		{"signal unknown kind", signal(27, c.id, d, "candidate", "s"), signaling.CodeBadMessage, 27},
		{"signal without session", signal(28, c.id, d, "offer", ""), signaling.CodeBadMessage, 28},
		{"signal session too long", signal(29, c.id, d, "offer", strings.Repeat("s", signaling.MaxSessionLen+1)), signaling.CodeBadMessage, 29},
		{"signal without digest", signal(30, c.id, "", "offer", "s"), signaling.CodeBadDigest, 30},
		{"offer to a peer outside the swarm", signal(31, o.id, d, "offer", "s"), signaling.CodeNotInSwarm, 31},
		{"close to a peer outside the swarm", signal(32, o.id, d, "close", "s"), signaling.CodeNotInSwarm, 32},
		{"offer about a swarm the addressee is not in", signal(33, c.id, other.digest(), "offer", "s"), signaling.CodeNotInSwarm, 33},
		{"answer to no offer", signal(34, c.id, d, "answer", "s"), signaling.CodeNoOffer, 34},
		{"answer to someone else's offer", signal(35, c.id, d, "answer", "cb"), signaling.CodeNoOffer, 35},
		{"answer to the right offer about another file", signal(36, c.id, other.digest(), "answer", "cb"), signaling.CodeNoOffer, 36},
		{"uploaded negative", `{"type":"announce","id":37,"digest":"` + d + `","uploaded":-5}`, signaling.CodeBadMessage, 37},
		{"downloaded not a number", `{"type":"announce","id":38,"digest":"` + d + `","downloaded":"lots"}`, signaling.CodeBadMessage, 38},
	}
	before := s.reg.snapshot()
	_, apiBefore := s.apiFile(t, d)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.t = t
			a.sendRaw([]byte(c.frame))
			wantError(t, a.recv(), c.code, c.id)
			if after := s.reg.snapshot(); after != before {
				t.Fatalf("state changed:\n%s\nto\n%s", before, after)
			}
			status, apiAfter := s.apiFile(t, d)
			if status != http.StatusOK || !samePeers(apiAfter.Peers, apiBefore.Peers) || !bytes.Equal(apiAfter.Manifest, apiBefore.Manifest) {
				t.Fatalf("api changed: %+v to %d %+v", apiBefore.Peers, status, apiAfter.Peers)
			}
			if status, _ := s.apiFile(t, other.digest()); status != http.StatusNotFound {
				t.Fatalf("the other file appeared: %d", status)
			}
		})
	}

	t.Run("binary frame", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.ws.Write(ctx, websocket.MessageBinary, []byte(`{"type":"query","id":1}`)); err != nil {
			t.Fatal(err)
		}
		a.t = t
		wantError(t, a.recv(), signaling.CodeBadMessage, 0)
		if after := s.reg.snapshot(); after != before {
			t.Fatalf("state changed:\n%s\nto\n%s", before, after)
		}
	})
}

// samePeers reports whether a and b list the same peers in any order.
func samePeers(a, b []signaling.PeerInfo) bool {
	key := func(p signaling.PeerInfo) string { return p.ID }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, func(x, y signaling.PeerInfo) int { return strings.Compare(key(x), key(y)) })
	slices.SortFunc(b, func(x, y signaling.PeerInfo) int { return strings.Compare(key(x), key(y)) })
	return slices.Equal(a, b)
}

func announceFrame(id uint64, digest string, manifest []byte, have int, complete bool) string {
	b, _ := json.Marshal(signaling.Message{Type: signaling.TypeAnnounce, ID: id, Digest: digest, Manifest: manifest, Have: have, Complete: complete})
	return string(b)
}

func TestOversizedFrame(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a := s.dial(t)
	f := newFile(t, 1<<20)
	a.mustOK(f.announce(1, 0, true))
	before := s.reg.snapshot()

	// Over MaxMessageBytes: too_large, and the connection stays usable.
	big := append([]byte(`{"type":"query","id":5,"digest":"`), bytes.Repeat([]byte("a"), signaling.MaxMessageBytes)...)
	a.sendRaw(big)
	wantError(t, a.recv(), signaling.CodeTooLarge, 0)
	if after := s.reg.snapshot(); after != before {
		t.Fatalf("state changed:\n%s\nto\n%s", before, after)
	}
	if r := a.request(signaling.Message{Type: signaling.TypeQuery, ID: 6, Digest: f.digest()}); r.Type != signaling.TypePeers {
		t.Fatalf("after an oversized frame: %+v", r)
	}

	// Past the hard limit: too_large, then the tracker closes with 1009.
	huge := make([]byte, hardFrameLimit+1)
	werr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		werr <- a.ws.Write(ctx, websocket.MessageText, huge)
	}()
	m, err := a.tryRecv(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, m, signaling.CodeTooLarge, 0)
	_, err = a.tryRecv(20 * time.Second)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("after a huge frame: %v, want close status 1009", err)
	}
	<-werr
	eventually(t, "the peer to be gone", func() bool {
		peers, _ := s.reg.counts()
		return peers == 0
	})
}

// TestSlowConsumer floods a peer that never reads: the tracker drops it
// while staying responsive to everyone else.
// A peer that asks and does not read its answers is disconnected; its
// swarms go on without it.
func TestSlowConsumer(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{SendQueue: 4, WriteTimeout: 300 * time.Millisecond, MessageRate: 1000, MessageBurst: 1000})
	f := newFile(t, 1<<20)
	big := newFile(t, 64<<30) // a 270 KB manifest in every reply
	victim, seed, bystander := s.dial(t), s.dial(t), s.dial(t)
	seed.mustOK(f.announce(1, 0, true))
	seed.mustOK(big.announce(2, 0, true))
	victim.mustOK(f.announce(1, 0, true))
	// From here on the victim asks and reads nothing.
	gone := func() bool { return s.reg.peer(victim.id) == nil }
	for i := 0; i < 400 && !gone(); i++ {
		victim.send(signaling.Message{Type: signaling.TypeQuery, ID: uint64(i + 2), Digest: big.digest()})
		if i%10 == 0 {
			start := time.Now()
			r := bystander.request(signaling.Message{Type: signaling.TypeQuery, ID: uint64(i + 1), Digest: f.digest()})
			if r.Type != signaling.TypePeers {
				t.Fatalf("bystander got %+v", r)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("the tracker took %v to answer a bystander", d)
			}
		}
	}
	eventually(t, "the slow peer to be dropped", gone)
	if status, fi := s.apiFile(t, f.digest()); status != http.StatusOK || !slices.Equal(peerIDs(fi.Peers), []string{seed.id}) {
		t.Errorf("the dropped peer's swarm: %d %+v, want only the seed", status, fi.Peers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := victim.ws.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the victim's connection is still open")
			}
			break
		}
	}
}
