package tracker

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// rawDial opens a TCP connection to s from the loopback address local.
func rawDial(t *testing.T, s *server, local string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clientFrom is an HTTP client whose connections come from the loopback
// address local, and which gives up on a request after a generous 20s.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// status GETs url with c and returns the status.
func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitClosed reads c until the server closes it, failing if that takes
// more than a generous 15s. It returns the bytes read.
func waitClosed(t *testing.T, c net.Conn, what string) int64 {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the connection is still open after 15s (%d bytes read)", what, n)
	}
	return n
}

// A request that announces a body and sends none is cut once the read
// timeout passes, on a plain route and on /ws before the upgrade, while
// others are served.
func TestSlowBody(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{ReadTimeout: 300 * time.Millisecond})
	host := strings.TrimPrefix(s.base, "http://")
	reqs := map[string]string{
		"/healthz": "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 1000\r\n\r\n",
		"/ws": "GET /ws HTTP/1.1\r\nHost: " + host + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 1000\r\n\r\n",
	}
	conns := map[string]net.Conn{}
	for what, req := range reqs {
		c := rawDial(t, s, "127.0.0.1")
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		conns[what] = c
	}
	good := clientFrom("127.0.0.1")
	if got := status(t, good, s.base+"/healthz"); got != http.StatusOK {
		t.Errorf("a well-behaved /healthz during the attack: %d", got)
	}
	for what, c := range conns {
		waitClosed(t, c, what)
	}
	// A WebSocket handshake without a body is still upgraded.
	s.dial(t)
}

// Downloads that are never read hold at most their address's share of the
// requests in flight, and each is cut once it stalls for the write timeout.
func TestStalledDownloads(t *testing.T) {
	const size = 8 << 20
	app := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html>")},
		wasmPath:     {Data: make([]byte, size)},
	}
	s := startServer(t, "127.0.0.1:0", Options{App: app, MaxConcurrentRequests: 16, WriteTimeout: time.Second})
	host := strings.TrimPrefix(s.base, "http://")
	var stalled []net.Conn
	for range 16 {
		c := rawDial(t, s, "127.0.0.1")
		c.(*net.TCPConn).SetReadBuffer(4096)
		io.WriteString(c, "GET /"+wasmPath+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
		stalled = append(stalled, c)
	}
	// Their address's own requests are refused once its share is held...
	attacker := clientFrom("127.0.0.1")
	eventually(t, "the stalled downloads to hold their share", func() bool {
		return status(t, attacker, s.base+"/healthz") == http.StatusTooManyRequests
	})
	// ...and everyone else is served.
	good := clientFrom("127.0.0.2")
	for _, path := range []string{"/", "/api/config"} {
		if got := status(t, good, s.base+path); got != http.StatusOK {
			t.Errorf("a well-behaved GET %s during the attack: %d", path, got)
		}
	}
	// Once they stall for the write timeout they are cut, and their slots
	// are free again.
	eventually(t, "the stalled downloads to be cut", func() bool {
		return status(t, attacker, s.base+"/healthz") == http.StatusOK
	})
	for _, c := range stalled {
		c.Close()
	}
}

// A request naming a host the tracker does not answer to (DNS rebinding:
// an attacker's name resolving to the tracker) is refused, on the app, the
// API and the WebSocket; its own names and addresses are served.
func TestHostCheck(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{Hosts: []string{"tracker.lan", "*.example"}, AllowOrigins: []string{"app.lan:*"}})
	port := s.base[strings.LastIndex(s.base, ":")+1:]
	get := func(host, path string) int {
		req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
		req.Host = host
		resp, err := clientFrom("127.0.0.1").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for host, ok := range map[string]bool{
		"127.0.0.1:" + port:   true,
		"[::1]:" + port:       true,
		"localhost:" + port:   true,
		"tracker.lan:" + port: true,
		"TRACKER.LAN.":        true,
		"a.example:" + port:   true,
		"app.lan:" + port:     true,
		"evil.example.com":    false,
		"rebind.attacker:80":  false,
		"tracker.lan.evil":    false,
	} {
		for _, path := range []string{"/", "/api/stats", "/ws"} {
			got := get(host, path)
			if refused := got == http.StatusMisdirectedRequest; refused == ok {
				t.Errorf("GET %s with Host %q: %d", path, host, got)
			}
		}
	}
	// The WebSocket from a good name still opens.
	if ws, status, _ := dialWS(t, s.wsURL(), http.Header{"Origin": {s.base}}); ws == nil {
		t.Errorf("a page at %s: %d", s.base, status)
	}
}
