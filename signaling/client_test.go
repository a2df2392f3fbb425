//go:build !js

package signaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
	"tabswarm/swarm"
	"tabswarm/swarm/swarmtest"
	"tabswarm/tracker"
)

// startTracker serves a tracker on a loopback port and returns its /ws URL
// and a func that stops it (also run at cleanup).
func startTracker(t *testing.T) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := tracker.New(tracker.Options{App: fstest.MapFS{}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Serve(ctx, ln) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return "ws://" + ln.Addr().String() + "/ws", stop
}

// startClient runs a Client for the test and waits for its first connection
// unless url is not expected to answer.
func startClient(t *testing.T, url string, opts signaling.Options, wait bool) *signaling.Client {
	t.Helper()
	c := signaling.NewClient(url, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
		for range c.Messages() { // ends only if Run closed it
		}
	})
	if wait {
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		if err := c.WaitConnected(wctx); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func newManifest(t *testing.T) (*swarm.Manifest, json.RawMessage) {
	return swarmtest.Manifest(t, "a.txt", 2*swarm.MinChunkSize+5)
}

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recvMsg waits up to 5s for a message on c.Messages.
func recvMsg(t *testing.T, c *signaling.Client) signaling.Message {
	t.Helper()
	select {
	case m := <-c.Messages():
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return signaling.Message{}
	}
}

func TestClientRequest(t *testing.T) {
	url, _ := startTracker(t)
	a := startClient(t, url, signaling.Options{}, true)
	b := startClient(t, url, signaling.Options{}, true)
	if a.PeerID() == "" || a.PeerID() == b.PeerID() {
		t.Fatalf("peer IDs %q and %q", a.PeerID(), b.PeerID())
	}
	m, raw := newManifest(t)
	ctx := ctx5s(t)

	r, err := a.Request(ctx, signaling.Message{Type: signaling.TypeAnnounce, Digest: m.Digest.String(), Manifest: raw, Complete: true})
	if err != nil || r.Type != signaling.TypeOK || r.ID == 0 {
		t.Fatalf("announce: %+v, %v", r, err)
	}
	r, err = b.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: m.Digest.String()})
	if err != nil || r.Type != signaling.TypePeers || len(r.Peers) != 1 || r.Peers[0].ID != a.PeerID() {
		t.Fatalf("query: %+v, %v", r, err)
	}
	if _, err := swarm.ParseManifest(r.Manifest, m.Digest); err != nil {
		t.Errorf("queried manifest: %v", err)
	}

	r, err = b.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: "nope"})
	var e *signaling.Error
	if !errors.As(err, &e) || e.Code != signaling.CodeBadDigest || r.Type != signaling.TypeError {
		t.Errorf("bad query: %+v, %v; want a bad_digest *Error", r, err)
	}

	big := signaling.Message{Type: signaling.TypeSignal, To: a.PeerID(), Signal: &signaling.Signal{Kind: signaling.SignalOffer, SDP: strings.Repeat("x", signaling.MaxMessageBytes)}}
	if err := b.Send(ctx, big); !errors.Is(err, signaling.ErrTooLarge) {
		t.Errorf("Send of an oversized message: %v, want ErrTooLarge", err)
	}
}

func TestClientMessages(t *testing.T) {
	url, _ := startTracker(t)
	a := startClient(t, url, signaling.Options{}, true)
	b := startClient(t, url, signaling.Options{}, true)
	ctx := ctx5s(t)

	// A leecher hears of a new seeder.
	m, raw := newManifest(t)
	d := m.Digest.String()
	if _, err := b.Request(ctx, signaling.Message{Type: signaling.TypeAnnounce, Digest: d, Manifest: raw}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Request(ctx, signaling.Message{Type: signaling.TypeAnnounce, Digest: d, Complete: true}); err != nil {
		t.Fatal(err)
	}
	if n := recvMsg(t, b); n.Type != signaling.TypePeers || len(n.Peers) != 1 || n.Peers[0].ID != a.PeerID() || !n.Peers[0].Complete {
		t.Errorf("b got %+v, want a notice of seeder a", n)
	}

	// Members of a swarm signal each other.
	sig := &signaling.Signal{Kind: signaling.SignalOffer, Session: "s", SDP: "v=0"}
	if err := a.Send(ctx, signaling.Message{Type: signaling.TypeSignal, ID: 77, To: b.PeerID(), Digest: d, Signal: sig}); err != nil {
		t.Fatal(err)
	}
	if m := recvMsg(t, b); m.Type != signaling.TypeSignal || m.From != a.PeerID() || m.ID != 0 || *m.Signal != *sig || m.Digest != d {
		t.Errorf("b got %+v, want a's signal", m)
	}
	// An error about a message sent with Send arrives on Messages.
	if err := a.Send(ctx, signaling.Message{Type: signaling.TypeSignal, To: "gone", Digest: d, Signal: sig}); err != nil {
		t.Fatal(err)
	}
	if m := recvMsg(t, a); m.Type != signaling.TypeError || m.Error.Code != signaling.CodeUnknownPeer {
		t.Errorf("a got %+v, want unknown_peer", m)
	}
}

func TestClientNotConnected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nothing listens there now
	c := startClient(t, url, signaling.Options{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, false)
	ctx := ctx5s(t)
	if err := c.Send(ctx, signaling.Message{Type: signaling.TypeQuery}); !errors.Is(err, signaling.ErrNotConnected) {
		t.Errorf("Send: %v, want ErrNotConnected", err)
	}
	if _, err := c.Request(ctx, signaling.Message{Type: signaling.TypeQuery}); !errors.Is(err, signaling.ErrNotConnected) {
		t.Errorf("Request: %v, want ErrNotConnected", err)
	}
	if id := c.PeerID(); id != "" {
		t.Errorf("PeerID %q while disconnected", id)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := c.WaitConnected(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitConnected: %v, want a deadline error", err)
	}
}

func TestClientRunErrors(t *testing.T) {
	c := signaling.NewClient("http://127.0.0.1:1/ws", signaling.Options{})
	if err := c.Run(context.Background()); !errors.Is(err, signaling.ErrBadURL) {
		t.Errorf("Run with an http URL: %v, want ErrBadURL", err)
	}
	if err := c.Run(context.Background()); !errors.Is(err, signaling.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	if _, open := <-c.Messages(); open {
		t.Error("Messages open after Run returned")
	}
}

// TestClientSlowConsumer: a consumer that does not drain Messages makes the
// client drop the connection and redial, under a new peer ID.
func TestClientSlowConsumer(t *testing.T) {
	url, _ := startTracker(t)
	a := startClient(t, url, signaling.Options{}, true)
	b := startClient(t, url, signaling.Options{Buffer: 2, MinBackoff: 10 * time.Millisecond}, true)
	first := b.PeerID()
	ctx := ctx5s(t)
	m, raw := newManifest(t)
	d := m.Digest.String()
	if _, err := a.Request(ctx, signaling.Message{Type: signaling.TypeAnnounce, Digest: d, Manifest: raw, Complete: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: d}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := a.Send(ctx, signaling.Message{Type: signaling.TypeSignal, To: first, Digest: d, Signal: &signaling.Signal{Kind: signaling.SignalClose, Session: "s"}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if id := b.PeerID(); id != "" && id != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow consumer's client did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeTracker serves /ws with handle on a loopback httptest server and
// counts connections.
func fakeTracker(t *testing.T, handle func(ctx context.Context, ws *websocket.Conn)) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		n.Add(1)
		handle(r.Context(), ws)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", &n
}

func writeMsg(ctx context.Context, ws *websocket.Conn, m signaling.Message) error {
	b, _ := json.Marshal(m)
	return ws.Write(ctx, websocket.MessageText, b)
}

func TestClientConnectionLost(t *testing.T) {
	dropped := make(chan struct{}, 10)
	url, _ := fakeTracker(t, func(ctx context.Context, ws *websocket.Conn) {
		if writeMsg(ctx, ws, signaling.Message{Type: signaling.TypeWelcome, PeerID: "p1"}) != nil {
			return
		}
		ws.Read(ctx) // the request, never answered
		dropped <- struct{}{}
	})
	var lost atomic.Bool
	c := startClient(t, url, signaling.Options{
		MinBackoff: time.Hour, // one connection is enough
		OnConnect: func(ctx context.Context, peerID string) {
			<-ctx.Done()
			lost.Store(true)
		},
	}, true)
	if c.PeerID() != "p1" {
		t.Errorf("PeerID %q, want p1", c.PeerID())
	}
	_, err := c.Request(ctx5s(t), signaling.Message{Type: signaling.TypeQuery})
	if !errors.Is(err, signaling.ErrConnectionLost) {
		t.Errorf("Request: %v, want ErrConnectionLost", err)
	}
	<-dropped
	deadline := time.Now().Add(5 * time.Second)
	for !lost.Load() {
		if time.Now().After(deadline) {
			t.Fatal("OnConnect's ctx was not cancelled when the connection dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClientBadWelcome(t *testing.T) {
	url, conns := fakeTracker(t, func(ctx context.Context, ws *websocket.Conn) {
		writeMsg(ctx, ws, signaling.Message{Type: signaling.TypeOK})
		ws.Read(ctx)
	})
	var connected atomic.Bool
	startClient(t, url, signaling.Options{
		MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
		OnConnect:  func(context.Context, string) { connected.Store(true) },
	}, false)
	deadline := time.Now().Add(5 * time.Second)
	for conns.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d dials, want the client to keep redialling", conns.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if connected.Load() {
		t.Error("OnConnect ran without a welcome")
	}
}

func Example() {
	c := signaling.NewClient("ws://127.0.0.1:8080/ws", signaling.Options{
		OnConnect: func(ctx context.Context, peerID string) {
			// (Re-)announce what this peer holds; ctx ends with the connection.
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	go func() {
		for m := range c.Messages() {
			_ = m // relayed signals and newcomer notices
		}
	}()
	if err := c.WaitConnected(ctx); err != nil {
		return
	}
	reply, err := c.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: "…"})
	var terr *signaling.Error
	if errors.As(err, &terr) && terr.Code == signaling.CodeUnknownFile {
		return // nobody has it
	}
	_ = reply.Peers
}
