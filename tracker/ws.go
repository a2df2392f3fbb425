package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"tabswarm/signaling"
)

// hardFrameLimit is the frame size past which the tracker stops discarding
// an oversized frame and closes the connection. Frames between
// MaxMessageBytes and this get a too_large error and the connection stays.
const hardFrameLimit = 4 * signaling.MaxMessageBytes

// errFrameTooLarge ends a reader that met a frame over hardFrameLimit.
var errFrameTooLarge = errors.New("tracker: frame over the hard limit")

// serveWS upgrades the request and serves the connection until it ends.
// A page from another origin gets 403 (forbidden_origin), a client address
// at MaxConnsPerIP 429 and a full tracker 503 (rate_limited), each before
// the upgrade.
func (t *Tracker) serveWS(w http.ResponseWriter, r *http.Request) {
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
	defer t.release(ip)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: t.opts.AllowOrigins})
	if err != nil {
		t.log.Info("tracker: WebSocket handshake failed", "remote", r.RemoteAddr, "err", err)
		return // Accept has written the response
	}
	ws.SetReadLimit(-1) // readFrame enforces the limits, to answer too_large

	p := newPeer(t.ctx, ws, t.opts)
	for !t.reg.addPeer(p) { // a 128-bit collision: draw again
		p = newPeer(t.ctx, ws, t.opts)
	}
	defer t.reg.removePeer(p)
	p.log.Info("tracker: peer connected", "remote", r.RemoteAddr)
	p.send(signaling.Message{Type: signaling.TypeWelcome, PeerID: p.id})

	var wg sync.WaitGroup
	readDone := make(chan struct{})
	wg.Go(func() {
		defer close(readDone)
		if err := t.readLoop(p); !errors.Is(err, errFinalFrame) {
			p.cancel(err) // else the writer ends after the final frame
		}
	})
	writeDone := make(chan struct{})
	wg.Go(func() {
		defer close(writeDone)
		p.cancel(p.writeLoop(t.opts.WriteTimeout, t.opts.PingInterval))
	})

	<-p.ctx.Done()
	<-writeDone
	cause := context.Cause(p.ctx)
	var cf *closeFrame
	switch {
	case errors.As(cause, &cf):
		ws.Close(cf.status, cf.reason)
	case errors.Is(cause, errSlowPeer):
		t.metrics.dropped.WithLabelValues(droppedSlow).Inc()
		ws.CloseNow()
	case errors.Is(cause, context.Canceled): // the tracker is closing
		ws.Close(websocket.StatusGoingAway, "tracker shutting down")
	default:
		ws.Close(websocket.StatusPolicyViolation, "")
	}
	ws.CloseNow()
	wg.Wait()
	p.log.Info("tracker: peer disconnected", "reason", cause)
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
		data, err := readFrame(ctx, p.ws)
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
		t.handle(p, data)
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

// readFrame reads one frame of at most MaxMessageBytes. A larger frame is
// read to its end and discarded (errOversized), unless it passes
// hardFrameLimit (errFrameTooLarge, the connection is then unusable).
func readFrame(ctx context.Context, ws *websocket.Conn) ([]byte, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, signaling.MaxMessageBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > signaling.MaxMessageBytes {
		n, err := io.CopyN(io.Discard, r, hardFrameLimit-int64(len(data))+1)
		switch {
		case err == io.EOF:
			return nil, errOversized
		case err != nil:
			return nil, err
		default:
			return nil, fmt.Errorf("%w: more than %d bytes", errFrameTooLarge, int64(len(data))+n)
		}
	}
	if typ != websocket.MessageText {
		return nil, errBinary
	}
	return data, nil
}
