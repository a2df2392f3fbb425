package tracker

// These tests pin down what the tracker relies on beneath coder/websocket's
// API, so that an upgrade of the library that changes it fails here: the
// Hijack that websocket.Accept calls is ours, so the connection's buffers
// are small (TestConnMemory); a write deadline on the hijacked connection
// ends a write that a peer does not take (TestWriteDeadline); and bytes a
// client sent before the 101 reached the reader (TestEarlyFrame).

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"tabswarm/signaling"
)

// rawConn is a WebSocket client written by hand on a TCP connection, which
// holds next to no memory of its own.
type rawConn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

// rawHandshake opens a WebSocket to s by hand, sending extra right after
// the request, before any answer, and reads the 101.
func rawHandshake(t testing.TB, s *server, extra []byte) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := "GET /ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(s.base, "http://") + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := c.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{t: t, c: c, r: bufio.NewReaderSize(c, 16)}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return rc
}

// textFrame is a masked text frame holding b, as a client sends it.
func textFrame(b []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(b) < 126:
		f = append(f, 0x80|byte(len(b)))
	case len(b) < 1<<16:
		f = append(f, 0x80|126, byte(len(b)>>8), byte(len(b)))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(len(b)))
	}
	f = append(f, 0, 0, 0, 0) // a zero mask leaves the payload as it is
	return append(f, b...)
}

// recv reads one unfragmented data frame from the tracker.
func (rc *rawConn) recv() signaling.Message {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(rc.r, hdr[:]); err != nil {
		rc.t.Fatal(err)
	}
	n := int64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(rc.r, b[:])
		n = int64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(rc.r, b[:])
		n = int64(binary.BigEndian.Uint64(b[:]))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rc.r, body); err != nil {
		rc.t.Fatal(err)
	}
	var m signaling.Message
	if err := json.Unmarshal(body, &m); err != nil {
		rc.t.Fatalf("frame %x %q: %v", hdr, body, err)
	}
	return m
}

func TestEarlyFrame(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	q := mustMarshal(signaling.Message{Type: signaling.TypeQuery, ID: 7, Digest: strings.Repeat("ab", 32)})
	rc := rawHandshake(t, s, textFrame(q))
	if m := rc.recv(); m.Type != signaling.TypeWelcome {
		t.Fatalf("first frame %+v, want the welcome", m)
	}
	wantError(t, rc.recv(), signaling.CodeUnknownFile, 7)
}

func TestWriteDeadline(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{WriteTimeout: 300 * time.Millisecond, SendQueue: 100000, SendQueueBytes: 1 << 30, MessageRate: 1e6, MessageBurst: 1e6})
	seed := s.dial(t)
	big := newFile(t, 64<<30) // 270 KB in every reply
	seed.mustOK(big.announce(1, 0, true))
	rc := rawHandshake(t, s, nil)
	rc.c.(*net.TCPConn).SetReadBuffer(4096)
	id := rc.recv().PeerID
	// Ask for far more than the socket buffers hold, and read nothing: the
	// queue never fills, so only the write deadline can end this.
	q := textFrame(mustMarshal(signaling.Message{Type: signaling.TypeQuery, Digest: big.digest()}))
	rc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for range 200 {
		if _, err := rc.c.Write(q); err != nil {
			break // closed: the tracker gave up on us
		}
	}
	eventually(t, "the peer that reads nothing to be dropped", func() bool { return s.reg.peer(id) == nil })
}

func TestConnMemory(t *testing.T) {
	const n = 400
	s := startServer(t, "127.0.0.1:0", Options{MaxConnsPerIP: n})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]*rawConn, n)
	for i := range conns {
		conns[i] = rawHandshake(t, s, nil)
		conns[i].recv()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perConn := float64(after.HeapInuse-before.HeapInuse) / n
	t.Logf("heap per connection, tracker and raw client together: %.0f bytes", perConn)
	runtime.KeepAlive(conns)
	// About 7.5 KB with smallBuffers' buffers, 14.7 KB with net/http's.
	if perConn > 10<<10 {
		t.Errorf("%.0f bytes of heap per idle connection, want under 10 KiB: are the small buffers of smallBuffers.Hijack still used?", perConn)
	}
}
