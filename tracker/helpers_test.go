package tracker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
	"tabswarm/swarm"
	"tabswarm/swarm/swarmtest"
)

// server is a Tracker serving on a loopback port for one test.
type server struct {
	*Tracker
	base string // http://127.0.0.1:port
	stop func() // shuts it down and waits; also run by Cleanup
}

// startServer serves a new Tracker on addr ("127.0.0.1:0" for any port).
func startServer(t testing.TB, addr string, opts Options) *server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if opts.App == nil {
		opts.App = fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}
	}
	tr := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Serve(ctx, ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return &server{Tracker: tr, base: "http://" + ln.Addr().String(), stop: stop}
}

// fakeClock stops the registry's clock and returns what moves it on.
func (s *server) fakeClock() (advance func(time.Duration)) {
	var mu sync.Mutex
	now := time.Now()
	s.reg.mu.Lock()
	s.reg.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s.reg.mu.Unlock()
	return func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
}

func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.base, "http") + "/ws" }

// rawPeer is a bare WebSocket client that speaks the protocol by hand.
type rawPeer struct {
	t  testing.TB
	ws *websocket.Conn
	id string
}

// dial connects and reads the welcome.
func (s *server) dial(t testing.TB) *rawPeer {
	t.Helper()
	return s.dialOpts(t, nil)
}

// dialFrom is dial from the loopback address local.
func (s *server) dialFrom(t testing.TB, local string) *rawPeer {
	t.Helper()
	return s.dialOpts(t, &websocket.DialOptions{HTTPClient: clientFrom(local)})
}

func (s *server) dialOpts(t testing.TB, opts *websocket.DialOptions) *rawPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.wsURL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { ws.CloseNow() })
	p := &rawPeer{t: t, ws: ws}
	w := p.recv()
	if w.Type != signaling.TypeWelcome || w.PeerID == "" {
		t.Fatalf("first message %+v, want a welcome", w)
	}
	p.id = w.PeerID
	return p
}

// sendRaw writes one text frame.
func (p *rawPeer) sendRaw(data []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, data); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawPeer) send(m signaling.Message) {
	p.t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(b)
}

// recv reads one message, failing the test after 5s.
func (p *rawPeer) recv() signaling.Message {
	p.t.Helper()
	m, err := p.tryRecv(5 * time.Second)
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

func (p *rawPeer) tryRecv(d time.Duration) (signaling.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := p.ws.Read(ctx)
	if err != nil {
		return signaling.Message{}, err
	}
	var m signaling.Message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, err
	}
	return m, nil
}

// request sends m and returns the next message, which must carry m.ID.
func (p *rawPeer) request(m signaling.Message) signaling.Message {
	p.t.Helper()
	p.send(m)
	r := p.recv()
	if r.ID != m.ID {
		p.t.Fatalf("reply %+v to %s, want ID %d", r, m.Type, m.ID)
	}
	return r
}

// mustOK fails unless the reply to m is OK.
func (p *rawPeer) mustOK(m signaling.Message) {
	p.t.Helper()
	if r := p.request(m); r.Type != signaling.TypeOK {
		p.t.Fatalf("reply %+v to %s, want ok", r, m.Type)
	}
}

// testFile is a manifest for a file of size bytes with made-up chunk hashes.
type testFile struct {
	m   *swarm.Manifest
	raw json.RawMessage
}

func newFile(t testing.TB, size int64) testFile {
	t.Helper()
	m, raw := swarmtest.Manifest(t, "file.bin", size)
	return testFile{m: m, raw: raw}
}

func (f testFile) digest() string { return f.m.Digest.String() }

// announce is the first announce of f with its manifest.
func (f testFile) announce(id uint64, have int, complete bool) signaling.Message {
	return signaling.Message{Type: signaling.TypeAnnounce, ID: id, Digest: f.digest(), Manifest: f.raw, Have: have, Complete: complete}
}

// testClient leaves compression to the test: it sends no Accept-Encoding
// of its own and does not undo a gzip response.
var testClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// fetch does one GET with optional headers and returns the response with
// its body read.
func fetch(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// httpGet is fetch giving the status, the response headers and the body.
func httpGet(t *testing.T, url string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	resp, body := fetch(t, url, header)
	return resp.StatusCode, resp.Header, body
}

// fileBody is /api/files/{digest}'s body, with the holders' nodes apart.
type fileBody struct {
	Manifest json.RawMessage
	Peers    []signaling.PeerInfo
	Node     map[string]string // by peer ID
}

// apiFile fetches /api/files/{digest}: the status and, on 200, the body.
func (s *server) apiFile(t *testing.T, digest string) (int, fileBody) {
	t.Helper()
	resp, body := fetch(t, s.base+"/api/files/"+digest, nil)
	var fi fileInfo
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &fi); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
	}
	fb := fileBody{Manifest: fi.Manifest, Node: make(map[string]string)}
	for _, p := range fi.Peers {
		fb.Peers = append(fb.Peers, p.PeerInfo)
		fb.Node[p.ID] = p.Node
	}
	return resp.StatusCode, fb
}

// peerIDs lists the IDs in infos.
func peerIDs(infos []signaling.PeerInfo) []string {
	ids := make([]string, len(infos))
	for i, p := range infos {
		ids[i] = p.ID
	}
	return ids
}

// eventually polls cond every 20ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantError fails unless m is an error with code and id.
func wantError(t *testing.T, m signaling.Message, code signaling.ErrorCode, id uint64) {
	t.Helper()
	if m.Type != signaling.TypeError || m.Error == nil || m.Error.Code != code || m.ID != id {
		t.Fatalf("got %+v (error %+v), want error %s with ID %d", m, m.Error, code, id)
	}
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
