package signaling

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Run connects to the tracker and keeps connected until ctx is done, then
// returns ctx.Err(). When a connection fails or drops it redials after an
// exponential backoff with jitter (Options.MinBackoff to MaxBackoff). After
// each welcome it calls Options.OnConnect in its own goroutine. Run may be
// called once per Client; a second call returns ErrRunning. A URL that is not
// ws:// or wss:// makes it return ErrBadURL at once. When Run returns the
// Messages channel is closed and every goroutine it started has ended.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(c.msgs)
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("%w: %q", ErrBadURL, c.url)
	}
	dialURL, dialOpts := dialWith(c.url, c.opts.Token)
	attempt := 0
	for {
		welcomed, err := c.connect(ctx, dialURL, dialOpts)
		err = redactErr(err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if welcomed {
			attempt = 0
		}
		wait := backoff(c.opts.MinBackoff, c.opts.MaxBackoff, attempt)
		attempt++
		c.log.Info("signaling: disconnected from tracker", "url", Redact(c.url), "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// backoff returns the wait before redial number attempt (from 0): min
// doubled attempt times, capped at max, then jittered down by up to half.
func backoff(minWait, maxWait time.Duration, attempt int) time.Duration {
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return d/2 + rand.N(d/2+1)
}

// connect dials, waits for the welcome and serves one connection until it
// drops. welcomed reports whether the tracker said welcome.
func (c *Client) connect(ctx context.Context, dialURL string, opts *websocket.DialOptions) (welcomed bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	ws, _, err := websocket.Dial(dctx, dialURL, opts)
	cancel()
	if err != nil {
		return false, fmt.Errorf("signaling: dialling %s: %w", Redact(c.url), redactErr(err))
	}
	defer ws.CloseNow()
	ws.SetReadLimit(MaxMessageBytes)

	peerID, err := readWelcome(ctx, ws)
	if err != nil {
		return false, err
	}
	s := newSession(ctx, ws, peerID)
	c.setSession(s)
	c.log.Info("signaling: connected to tracker", "url", Redact(c.url), "peer_id", peerID)

	var wg sync.WaitGroup
	wg.Go(func() { s.cancel(s.readLoop(c.msgs)) })
	wg.Go(func() { s.cancel(s.writeLoop()) })
	c.hello(s) // queued before OnConnect's announces
	if c.opts.OnConnect != nil {
		wg.Go(func() { c.opts.OnConnect(s.ctx, peerID) })
	}

	<-s.ctx.Done()
	c.clearSession()
	s.end()
	cause := context.Cause(s.ctx)
	if errors.Is(cause, context.Canceled) && ctx.Err() != nil {
		ws.Close(websocket.StatusNormalClosure, "peer leaving")
	} else {
		ws.Close(websocket.StatusGoingAway, "reconnecting")
	}
	ws.CloseNow() // unblocks the reader if the close handshake did not
	wg.Wait()
	return true, cause
}

// readWelcome reads the first frame, which must be a welcome with a peer ID.
func readWelcome(ctx context.Context, ws *websocket.Conn) (string, error) {
	wctx, cancel := context.WithTimeout(ctx, welcomeTimeout)
	defer cancel()
	typ, b, err := ws.Read(wctx)
	if err != nil {
		return "", fmt.Errorf("signaling: waiting for welcome: %w", err)
	}
	m, err := decode(typ, b)
	if err != nil {
		return "", err
	}
	if m.Type != TypeWelcome || m.PeerID == "" {
		return "", fmt.Errorf("%w: first message is %q, want a welcome with a peer ID", ErrProtocol, m.Type)
	}
	return m.PeerID, nil
}
