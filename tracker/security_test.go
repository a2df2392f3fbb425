package tracker

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
)

// errorCode returns the code of a JSON error body, or "".
func errorCode(body []byte) signaling.ErrorCode {
	var e signaling.Error
	json.Unmarshal(body, &e)
	return e.Code
}

// dialWS tries a WebSocket handshake; on refusal it returns the status and
// error body.
func dialWS(t *testing.T, url string, header http.Header) (*websocket.Conn, int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		t.Cleanup(func() { ws.CloseNow() })
		return ws, http.StatusSwitchingProtocols, nil
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return nil, resp.StatusCode, body
}

func TestSecurityHeaders(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	for _, path := range []string{"/", "/stats", "/stats/dashboard.js", "/api/stats", "/api/nothing", "/healthz", "/metrics", "/missing.js"} {
		_, h, _ := httpGet(t, s.base+path, nil)
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval';", "connect-src 'self' ws: wss:", "img-src 'self' data: blob:", "style-src 'self';", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q allows inline code", path, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s is %q, want %q", path, k, got, v)
			}
		}
	}
	// The WebSocket refusals carry them too.
	_, h, _ := httpGet(t, s.base+"/ws", map[string]string{"Origin": "http://evil.example"})
	if h.Get("Content-Security-Policy") == "" {
		t.Error("a refused /ws has no CSP")
	}
}

func TestOrigin(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{AllowOrigins: []string{"app.lan:*", "https://secure.example"}})
	host := strings.TrimPrefix(s.base, "http://")
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // a native peer
		{"http://" + host, true},
		{"http://" + strings.ToUpper(host), true},
		{"http://app.lan:8080", true},
		{"https://secure.example", true},
		{"http://secure.example", false}, // the scheme is part of that pattern
		{"http://evil.example", false},
		{"http://" + host + ".evil.example", false},
		{"http://evil.example/" + host, false},
		{"null", false},
		{"::not a url", false},
	} {
		header := http.Header{}
		if c.origin != "" {
			header.Set("Origin", c.origin)
		}
		ws, status, body := dialWS(t, s.wsURL(), header)
		switch {
		case c.ok && ws == nil:
			t.Errorf("Origin %q: refused with %d %s", c.origin, status, body)
		case !c.ok && (status != http.StatusForbidden || errorCode(body) != signaling.CodeBadOrigin):
			t.Errorf("Origin %q: %d %s, want 403 %s", c.origin, status, body, signaling.CodeBadOrigin)
		}
		if ws != nil {
			ws.CloseNow()
		}
	}
	eventually(t, "the peers to go", func() bool { n, _ := s.reg.counts(); return n == 0 })
}

func TestPrivateTracker(t *testing.T) {
	const token = "s3cret token"
	ice := []ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}}
	s := startServer(t, "127.0.0.1:0", Options{Token: token, ICEServers: ice})
	f := newFile(t, 1<<20)
	bearer := map[string]string{"Authorization": "Bearer " + token}

	// Refused without the token, or with a wrong one.
	for _, h := range []http.Header{{}, {"Authorization": {"Bearer wrong"}}, {"Authorization": {"Basic " + token}}} {
		if ws, status, body := dialWS(t, s.wsURL(), h); ws != nil || status != http.StatusUnauthorized || errorCode(body) != signaling.CodeUnauthorized {
			t.Errorf("/ws with %v: %d %s, want 401 unauthorized", h, status, body)
		}
	}
	if ws, status, _ := dialWS(t, s.wsURL()+"?token=wrong", nil); ws != nil || status != http.StatusUnauthorized {
		t.Errorf("/ws with a wrong token parameter: %d", status)
	}
	for _, path := range []string{"/api/stats", "/api/config", "/api/files/" + f.digest(), "/api/stats/events", "/api/nothing", "/metrics"} {
		status, h, body := httpGet(t, s.base+path, nil)
		if status != http.StatusUnauthorized || errorCode(body) != signaling.CodeUnauthorized || h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without token: %d %s", path, status, body)
		}
	}

	// Accepted with it, as a header or a parameter.
	a := s.dialWith(t, s.wsURL()+"?token="+strings.ReplaceAll(token, " ", "%20"), nil)
	a.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 1, Digest: f.digest(), Manifest: f.raw, Complete: true})
	s.dialWith(t, s.wsURL(), http.Header{"Authorization": {"Bearer " + token}})
	status, _, body := httpGet(t, s.base+"/api/config", bearer)
	var cfg configBody
	if err := json.Unmarshal(body, &cfg); status != http.StatusOK || err != nil || !cfg.Private || len(cfg.ICEServers) != 1 || cfg.ICEServers[0].URLs[0] != ice[0].URLs[0] {
		t.Errorf("/api/config with token: %d %s", status, body)
	}
	if status, _, _ := httpGet(t, s.base+"/api/stats?token="+strings.ReplaceAll(token, " ", "+"), nil); status != http.StatusOK {
		t.Errorf("/api/stats with a token parameter: %d", status)
	}

	if status, _, _ := httpGet(t, s.base+"/metrics", bearer); status != http.StatusOK {
		t.Errorf("/metrics with the token: %d", status)
	}

	// The app, the dashboard shell and health stay open; the shell shows
	// no data without the token.
	for _, path := range []string{"/", "/healthz", "/stats/dashboard.js"} {
		if status, _, _ := httpGet(t, s.base+path, nil); status != http.StatusOK {
			t.Errorf("%s: %d, want 200", path, status)
		}
	}
	_, _, page := httpGet(t, s.base+"/stats", nil)
	if strings.Contains(string(page), f.m.Name) || strings.Contains(string(page), f.digest()[:12]) || !strings.Contains(string(page), `id="token-form"`) {
		t.Errorf("/stats without token shows data or no token form:\n%s", page)
	}
	_, _, page = httpGet(t, s.base+"/stats", bearer)
	if !strings.Contains(string(page), f.digest()[:12]) {
		t.Errorf("/stats with token lacks the swarm:\n%s", page)
	}

	// The signalling client sends its token.
	c := signaling.NewClient(s.wsURL(), signaling.Options{Token: token, MinBackoff: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := c.WaitConnected(wctx); err != nil {
		t.Errorf("client with token: %v", err)
	}
	wcancel()
	cancel()
	<-done
}

// dialWith connects with extra headers and reads the welcome.
func (s *server) dialWith(t *testing.T, url string, header http.Header) *rawPeer {
	t.Helper()
	ws, status, body := dialWS(t, url, header)
	if ws == nil {
		t.Fatalf("dial %s: %d %s", url, status, body)
	}
	ws.SetReadLimit(-1)
	p := &rawPeer{t: t, ws: ws}
	if w := p.recv(); w.Type != signaling.TypeWelcome {
		t.Fatalf("first message %+v", w)
	}
	return p
}

func TestConnsPerIP(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxConnsPerIP: 2})
	a := s.dial(t)
	s.dial(t)
	ws, status, body := dialWS(t, s.wsURL(), nil)
	if ws != nil || status != http.StatusTooManyRequests || errorCode(body) != signaling.CodeRateLimited {
		t.Fatalf("third connection: %d %s, want 429 rate_limited", status, body)
	}
	a.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "a slot to free", func() bool {
		ws, _, _ := dialWS(t, s.wsURL(), nil)
		if ws != nil {
			ws.CloseNow()
		}
		return ws != nil
	})
}

func TestHTTPRateLimit(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{HTTPRate: 5})
	limited := 0
	for range 10 {
		status, _, body := httpGet(t, s.base+"/healthz", nil)
		if status == http.StatusTooManyRequests {
			if errorCode(body) != signaling.CodeRateLimited {
				t.Fatalf("429 body %s", body)
			}
			limited++
		}
	}
	if limited < 5 {
		t.Errorf("%d of 10 requests limited, want at least 5", limited)
	}
	// The WebSocket is bounded per connection count, not by this.
	s.dial(t)
}

// TestStrikes: a peer that keeps going over the message rate gets typed
// errors, then a close with 1008.
func TestStrikes(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MessageRate: 0.001, MessageBurst: 1, MaxStrikes: 3})
	a := s.dial(t)
	limited := 0
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := a.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"query","digest":"00","id":`+string(rune('1'+i%9))+`}`))
		cancel()
		if err != nil {
			break
		}
	}
	for {
		m, err := a.tryRecv(5 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("connection ended with %v, want close 1008", err)
			}
			break
		}
		if m.Type != signaling.TypeError || m.Error == nil {
			t.Fatalf("got %+v", m)
		}
		if m.Error.Code == signaling.CodeRateLimited {
			limited++
		}
	}
	if limited != 4 { // three strikes, then the last error
		t.Errorf("%d rate_limited errors before the close, want 4", limited)
	}
	eventually(t, "the peer to go", func() bool { n, _ := s.reg.counts(); return n == 0 })
}
