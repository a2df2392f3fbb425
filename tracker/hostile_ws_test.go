package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// One address can fill only its share of the manifest memory, and one
// connection only its own share of that; others can still share files.
func TestManifestMemoryShares(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{
		MaxManifestMemory:        1 << 20,
		MaxManifestMemoryPerIP:   300 << 10,
		MaxManifestMemoryPerPeer: 160 << 10,
	})
	// Manifests of 16 GiB files: 1024 chunks, about 70 KB each.
	stored := 0
	for range 6 {
		a := s.dialFrom(t, "127.0.0.1")
		for id := uint64(1); ; id++ {
			r := a.request(newFile(t, 16<<30).announce(id, 0, true))
			if r.Type != signaling.TypeOK {
				wantError(t, r, signaling.CodeRateLimited, id)
				if id > 3 {
					t.Errorf("connection %s stored %d manifests, want at most 2", a.id, id-1)
				}
				break
			}
			stored++
		}
	}
	if stored != 4 {
		t.Errorf("one address stored %d manifests, want 4 (its share)", stored)
	}
	b := s.dialFrom(t, "127.0.0.2")
	b.mustOK(newFile(t, 16<<30).announce(1, 0, true))
	b.mustOK(newFile(t, 1<<20).announce(2, 0, true))
}

// Connections flooding the tracker with the largest manifests do not keep
// a well-behaved peer's queries from their answers; how long the slowest
// took is logged, not asserted. The big-frame lane itself, which bounds
// the memory such frames hold, is TestHalfSentFrames's: this test passes
// without it too.
func TestBigAnnounceFlood(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	good := s.dialFrom(t, "127.0.0.2")
	f := newFile(t, 1<<20)
	good.mustOK(f.announce(1, 0, true))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var attackers []*rawPeer
	for i := range 2 {
		a := s.dialFrom(t, "127.0.0.1")
		attackers = append(attackers, a)
		big := newFile(t, 1<<40) // 65,536 chunks: a 4.4 MB frame
		wg.Go(func() {
			for ctx.Err() == nil {
				wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
				err := a.ws.Write(wctx, websocket.MessageText, mustMarshal(big.announce(uint64(i+1), 0, true)))
				wcancel()
				if err != nil {
					return
				}
			}
		})
		wg.Go(func() { // take the replies, as a peer that reads does
			for {
				if _, _, err := a.ws.Read(ctx); err != nil {
					return
				}
			}
		})
	}
	var worst time.Duration
	for id := uint64(2); id < 22; id++ {
		start := time.Now()
		r := good.request(signaling.Message{Type: signaling.TypeQuery, ID: id, Digest: f.digest()})
		if r.Type != signaling.TypePeers {
			t.Fatalf("query during the flood: %+v", r)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("slowest of 20 queries during the flood: %v", worst)
	cancel()
	for _, a := range attackers {
		a.ws.CloseNow()
	}
	wg.Wait()
}

// Frames left half sent are cut once the read timeout passes, rather than
// each holding up to MaxMessageBytes of the tracker's memory for good, and
// a well-behaved peer's big announce goes through meanwhile.
func TestHalfSentFrames(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{ReadTimeout: 2 * time.Second, MaxBigFrames: 1})
	ctx := context.Background()
	var halves []*rawPeer
	for range 3 {
		a := s.dialFrom(t, "127.0.0.1")
		w, err := a.ws.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, 1<<20)) // of a longer message, never finished
		halves = append(halves, a)
	}
	good := s.dialFrom(t, "127.0.0.2")
	good.mustOK(newFile(t, 64<<30).announce(1, 0, true)) // a 270 KB frame
	for i, a := range halves {
		if _, err := a.tryRecv(15 * time.Second); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("half-sent frame %d: %v, want the connection closed", i, err)
		}
	}
}

// A peer flooding another with signals is refused once the addressee's
// share of relayed frames is full, and closed for it; the addressee, which
// read nothing meanwhile, stays, reads what waited and is answered.
func TestRelayChargesSender(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MessageRate: 1000, MessageBurst: 1000})
	f := newFile(t, 1<<20)
	victim, sender := s.dial(t), s.dial(t)
	victim.mustOK(f.announce(1, 0, true))
	if r := sender.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: f.digest()}); r.Type != signaling.TypePeers {
		t.Fatalf("query: %+v", r)
	}
	// From here on the victim reads nothing for a while.
	offer := func(i int, sdp string) signaling.Message {
		return signaling.Message{Type: signaling.TypeSignal, ID: uint64(i), To: victim.id, Digest: f.digest(),
			Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: fmt.Sprint(i), SDP: sdp}}
	}
	r := sender.request(offer(2, strings.Repeat("x", signaling.MaxSDPBytes+1)))
	wantError(t, r, signaling.CodeTooLarge, 2)
	refused, closed := 0, false
	for i := 3; i < 400 && !closed; i++ {
		sender.send(offer(i, strings.Repeat("x", signaling.MaxSDPBytes)))
		r, err := sender.tryRecv(5 * time.Second)
		switch {
		case err != nil:
			closed = true
		case r.Type == signaling.TypeError:
			wantError(t, r, signaling.CodeRateLimited, uint64(i))
			refused++
		}
	}
	if refused == 0 || !closed {
		t.Errorf("the flooding sender got %d refusals and was closed: %t; want refusals, then a close", refused, closed)
	}
	if s.reg.peer(victim.id) == nil {
		t.Fatal("the addressee was disconnected")
	}
	victim.send(signaling.Message{Type: signaling.TypeQuery, ID: 2, Digest: f.digest()})
	for {
		m := victim.recv()
		if m.Type == signaling.TypeSignal && m.From == sender.id {
			continue // what waited
		}
		if m.Type != signaling.TypePeers || m.ID != 2 {
			t.Fatalf("victim got %+v, want the answer to its query", m)
		}
		break
	}
}

// Pings pass the message limiter: a flood of them is answered with
// rate_limited and ends in a close, while others are served.
func TestPingFlood(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MessageRate: 1, MessageBurst: 5, MaxStrikes: 3})
	a, good := s.dial(t), s.dial(t)
	errs := make(chan signaling.Message, 100)
	go func() {
		for {
			m, err := a.tryRecv(20 * time.Second)
			if err != nil {
				close(errs)
				return
			}
			errs <- m
		}
	}()
	for range 30 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			a.ws.Ping(ctx)
		}()
	}
	limited := 0
	for m := range errs {
		if m.Type == signaling.TypeError && m.Error.Code == signaling.CodeRateLimited {
			limited++
		}
	}
	if limited == 0 {
		t.Error("a ping flood got no rate_limited error, and no close")
	}
	f := newFile(t, 1<<20)
	good.mustOK(f.announce(1, 0, true))
}

// The reported byte totals stop at the largest int64 instead of turning
// negative.
func TestCountersSaturate(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 1<<20)
	for range 10 {
		p := s.dial(t)
		p.mustOK(f.announce(1, 0, true))
		m := f.announce(2, 0, true)
		m.Uploaded, m.Downloaded = 1<<60, 1<<60
		p.mustOK(m)
	}
	_, _, body := httpGet(t, s.base+"/api/stats", nil)
	var b statsBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	if b.BytesUploaded != math.MaxInt64 || b.BytesDownloaded != math.MaxInt64 {
		t.Errorf("totals %d up, %d down; want both at the largest int64", b.BytesUploaded, b.BytesDownloaded)
	}
}

// The first announcer does not decide a file's name for everyone: once
// another announces the same content under another name, the tracker
// serves its manifest without a name. One name, announced by all, stays.
func TestNameNotDecidedByFirst(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	real := newFile(t, 1<<20)
	squat := *real.m
	squat.Name, squat.Type = "report.pdf\u202ehtml.exe", "text/html"
	squatter, seed, other, leecher := s.dial(t), s.dial(t), s.dial(t), s.dial(t)
	squatter.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 1, Digest: real.digest(), Manifest: mustMarshal(&squat), Complete: true})
	seed.mustOK(real.announce(1, 0, true))
	r := leecher.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: real.digest()})
	m, err := swarm.ParseManifest(r.Manifest, real.m.Digest)
	if err != nil || m.Name != "" || m.Type != "" {
		t.Errorf("disputed manifest: %+v, %v; want it valid and nameless", m, err)
	}

	agreed := newFile(t, 2<<20)
	seed.mustOK(agreed.announce(2, 0, true))
	other.mustOK(agreed.announce(1, 0, true))
	r = leecher.request(signaling.Message{Type: signaling.TypeQuery, ID: 2, Digest: agreed.digest()})
	if m, err := swarm.ParseManifest(r.Manifest, agreed.m.Digest); err != nil || m.Name != agreed.m.Name {
		t.Errorf("agreed manifest: %+v, %v; want its name %q", m, err, agreed.m.Name)
	}
}
