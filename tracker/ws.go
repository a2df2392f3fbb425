package tracker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
)

// hardFrameLimit is the frame size past which the tracker stops discarding
// an oversized frame and closes the connection. Frames between
// MaxMessageBytes and this get a too_large error and the connection stays.
const hardFrameLimit = 4 * signaling.MaxMessageBytes

// errFrameTooLarge ends a reader that met a frame over hardFrameLimit.
var errFrameTooLarge = errors.New("tracker: frame over the hard limit")

// Buffer sizes of a WebSocket connection: every connection holds both for
// its lifetime, so they are small (net/http's are 4 KB each). A frame
// larger than a buffer takes one more system call to read or write.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 512
)

// serveWS upgrades the request and starts serving the connection in a
// goroutine of its own, so that the request, net/http's buffers and this
// goroutine are let go. A page from another origin gets 403
// (forbidden_origin), a client address at MaxConnsPerIP 429 and a full
// tracker 503 (rate_limited), each before the upgrade.
func (t *Tracker) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		writeError(w, http.StatusBadRequest, errorf(signaling.CodeBadMessage, "a WebSocket handshake has no body"))
		return
	}
	if err := originAllowed(r, t.opts.AllowOrigins); err != nil {
		t.metrics.refused.WithLabelValues(refusedOrigin).Inc()
		writeError(w, http.StatusForbidden, errorf(signaling.CodeBadOrigin, "%v", err))
		return
	}
	ip := clientKey(r)
	if err := t.admit(ip); err != nil {
		status, reason := http.StatusServiceUnavailable, refusedFull
		if errors.Is(err, errPerIP) {
			status, reason = http.StatusTooManyRequests, refusedPerIP
		}
		t.metrics.refused.WithLabelValues(reason).Inc()
		writeError(w, status, errorf(signaling.CodeRateLimited, "%v", err))
		return
	}
	noDeadlines(w) // the peer's reads wait for good; its writes set their own
	sb := &smallBuffers{ResponseWriter: w}
	pings := &pingGate{t: t}
	ws, err := websocket.Accept(sb, r, &websocket.AcceptOptions{
		OriginPatterns:  t.opts.AllowOrigins,
		CompressionMode: websocket.CompressionDisabled, // no flate state per connection
		OnPingReceived:  pings.allow,
	})
	if err != nil {
		t.release(ip)
		t.log.Info("tracker: WebSocket handshake failed", "remote", r.RemoteAddr, "err", err)
		return // Accept has written the response
	}
	ws.SetReadLimit(-1) // readFrame enforces the limits, to answer too_large
	go t.servePeer(ws, sb.conn, ip, r.RemoteAddr, pings)
}

// pingGate lets a connection's pings pass its message limiter: a ping over
// the rate gets no pong and counts as a message over the cap (a strike).
type pingGate struct {
	t *Tracker
	p atomic.Pointer[peer] // set once the peer exists
}

func (g *pingGate) allow(context.Context, []byte) bool {
	p := g.p.Load()
	if p == nil || p.limiter.Allow() {
		return true
	}
	g.t.fail(p, 0, errorf(signaling.CodeRateLimited, "too many messages (pings count)"))
	return false
}

// servePeer serves an upgraded connection, ws on conn, from client
// address key ip until it ends. Its goroutine is the peer's reader; once
// the peer's context is done, disconnect closes the connection.
func (t *Tracker) servePeer(ws *websocket.Conn, conn net.Conn, ip, remote string, pings *pingGate) {
	defer t.release(ip)
	p := newPeer(t.ctx, ws, conn, &t.opts, t.node)
	p.ip = ip
	for !t.reg.addPeer(p) { // a 128-bit collision: draw again
		p.cancel(nil)
		p.pinger.Stop()
		p = newPeer(t.ctx, ws, conn, &t.opts, t.node)
		p.ip = ip
	}
	defer t.reg.removePeer(p)
	pings.p.Store(p)
	p.log().Info("tracker: peer connected", "remote", remote)
	closed := make(chan struct{})
	context.AfterFunc(p.ctx, func() {
		defer close(closed)
		t.disconnect(p)
	})
	p.send(signaling.Message{Type: signaling.TypeWelcome, PeerID: p.id})

	if err := t.readLoop(p); !errors.Is(err, errFinalFrame) {
		p.cancel(err) // else the writer ends after the final frame
	}
	<-closed
	p.log().Info("tracker: peer disconnected", "reason", context.Cause(p.ctx))
}

// disconnect closes p's connection once p.ctx is done and the writer has
// ended: after a final frame with its status, and with a close handshake
// unless the peer was too slow to read or a write failed.
func (t *Tracker) disconnect(p *peer) {
	failed := p.stopWriting()
	cause := context.Cause(p.ctx)
	var cf *closeFrame
	switch {
	case errors.Is(cause, errSlowPeer):
		t.metrics.dropped.WithLabelValues(droppedSlow).Inc()
	case failed: // the stream may end mid-frame: no close frame
	case errors.As(cause, &cf):
		p.ws.Close(cf.status, cf.reason)
	case errors.Is(cause, context.Canceled): // the tracker is closing
		p.ws.Close(websocket.StatusGoingAway, "tracker shutting down")
	default:
		p.ws.Close(websocket.StatusPolicyViolation, "")
	}
	p.ws.CloseNow()
}

// smallBuffers is a ResponseWriter whose Hijack, which websocket.Accept
// calls, gives the connection buffers of wsReadBuffer and wsWriteBuffer
// bytes instead of net/http's, and keeps the connection in conn.
type smallBuffers struct {
	http.ResponseWriter
	conn net.Conn
}

func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = conn
	br := bufio.NewReaderSize(conn, wsReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 { // the client did not wait for the 101
		// Hand the bytes over buffered in br, not behind it: Accept
		// keeps what br has buffered and resets br to read the
		// connection (TestEarlyFrame).
		b, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn), max(wsReadBuffer, n))
		br.Peek(n) // from the copy alone, so it does not block
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, wsWriteBuffer)), nil
}

// readLoop reads and handles frames until the connection fails.
func (t *Tracker) readLoop(p *peer) error {
	// Not bound to p.ctx: a close handshake after p.ctx is done still
	// needs the reader to take the peer's close frame.
	ctx := context.WithoutCancel(p.ctx)
	for {
		if p.closing.Load() {
			return errFinalFrame
		}
		buf, leave, err := t.readFrame(ctx, p)
		switch {
		case errors.Is(err, errFrameTooLarge):
			p.finish(tooLargeReply, websocket.StatusMessageTooBig, "frame too large")
			return fmt.Errorf("%w: %w", errFinalFrame, err)
		case errors.Is(err, errOversized):
			t.fail(p, 0, tooLarge())
			continue
		case errors.Is(err, errBinary):
			t.fail(p, 0, errorf(signaling.CodeBadMessage, "binary frame: messages are JSON text frames"))
			continue
		case err != nil:
			return err
		}
		t.handleAside(p, buf.Bytes()) // handle keeps nothing of the bytes
		n := buf.Len()
		putFrameBuf(buf)
		if leave != nil {
			leave()
			// The connection's share of the big frames' parsing: it waits
			// before its next frame is read.
			if err := p.bigBytes.WaitN(p.ctx, n); err != nil {
				return err
			}
		}
	}
}

// job is a frame for a handler goroutine to handle: it handles data from
// p, then sends on done.
type job struct {
	p    *peer
	data []byte
	done chan struct{}
}

// doneChans holds the channels handlers report done on (buffered, size 1),
// so that a handoff allocates nothing.
var doneChans = sync.Pool{New: func() any { return make(chan struct{}, 1) }}

// handleAside has a handler goroutine handle data and waits for it. The
// reader spends its life parked in a read, which needs a small stack;
// handling (JSON) needs a larger one, which the handlers keep instead of
// every connection: handled on the reader, it would double the reader's
// stack to 8 KB for good, since a parked reader uses too much of it for
// the runtime to shrink it back.
func (t *Tracker) handleAside(p *peer, data []byte) {
	t.handlers.Do(t.startHandlers)
	j := job{p: p, data: data, done: doneChans.Get().(chan struct{})}
	select {
	case t.jobs <- j:
		<-j.done
	case <-t.ctx.Done(): // the handlers are ending
		t.handle(p, data)
	}
	doneChans.Put(j.done)
}

// startHandlers starts the handler goroutines, which end when the tracker
// closes. Handling blocks on nothing but short-held mutexes, so a few per
// CPU are enough.
func (t *Tracker) startHandlers() {
	for range 4 * runtime.GOMAXPROCS(0) {
		t.conns.Add(1) // the caller is a connection: the count is not 0
		go func() {
			defer t.conns.Done()
			for {
				select {
				case j := <-t.jobs:
					t.handle(j.p, j.data)
					j.done <- struct{}{}
				case <-t.ctx.Done():
					return
				}
			}
		}()
	}
}

var (
	errOversized = errors.New("tracker: frame over MaxMessageBytes")
	errBinary    = errors.New("tracker: binary frame")
)

func tooLarge() *signaling.Error {
	return errorf(signaling.CodeTooLarge, "a frame may hold at most %d bytes", signaling.MaxMessageBytes)
}

var tooLargeReply = mustMarshal(signaling.Message{Type: signaling.TypeError, Error: tooLarge()})

// frameBufs holds the buffers frames are read into. A reader takes one once
// a frame has begun, and gives it back once the frame is handled: a parked
// reader holds none.
var frameBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledFrame is the largest buffer frameBufs keeps; one that a large
// frame grew past it is let go.
const maxPooledFrame = 64 << 10

func putFrameBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledFrame {
		frameBufs.Put(b)
	}
}

// readFrame reads one frame of at most MaxMessageBytes from p into a buffer
// from frameBufs, which the caller gives back with putFrameBuf. A frame
// over smallFrame waits for the big lane before the rest of it is read, and
// must then arrive within ReadTimeout; leave is then not nil, and the caller
// calls it once the frame is handled. A frame over MaxMessageBytes is read
// to its end and discarded (errOversized), unless it passes hardFrameLimit
// (errFrameTooLarge, the connection is then unusable).
func (t *Tracker) readFrame(ctx context.Context, p *peer) (_ *bytes.Buffer, leave func(), _ error) {
	typ, r, err := p.ws.Reader(ctx)
	if err != nil {
		return nil, nil, err
	}
	b := frameBufs.Get().(*bytes.Buffer)
	b.Reset()
	err = readFrameInto(b, typ, r, func() error {
		var err error
		if leave, err = t.lane.enter(p.ctx, p.ip); err != nil {
			return err
		}
		return p.conn.SetReadDeadline(time.Now().Add(t.opts.ReadTimeout))
	})
	if leave != nil {
		p.conn.SetReadDeadline(time.Time{})
	}
	if err != nil {
		putFrameBuf(b)
		if leave != nil {
			leave()
		}
		return nil, nil, err
	}
	return b, leave, nil
}

// readFrameInto reads a frame of type typ from r into b; it calls big before
// reading past smallFrame bytes.
func readFrameInto(b *bytes.Buffer, typ websocket.MessageType, r io.Reader, big func() error) error {
	if _, err := b.ReadFrom(io.LimitReader(r, smallFrame+1)); err != nil {
		return err
	}
	if b.Len() > smallFrame {
		if err := big(); err != nil {
			return err
		}
		if _, err := b.ReadFrom(io.LimitReader(r, signaling.MaxMessageBytes+1-int64(b.Len()))); err != nil {
			return err
		}
	}
	if b.Len() > signaling.MaxMessageBytes {
		n, err := io.CopyN(io.Discard, r, hardFrameLimit-int64(b.Len())+1)
		switch {
		case err == io.EOF:
			return errOversized
		case err != nil:
			return err
		default:
			return fmt.Errorf("%w: more than %d bytes", errFrameTooLarge, int64(b.Len())+n)
		}
	}
	if typ != websocket.MessageText {
		return errBinary
	}
	return nil
}
