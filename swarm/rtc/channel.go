package rtc

import (
	"context"
	"fmt"
	"sync"

	"github.com/pion/webrtc/v4"

	"tabswarm/swarm"
)

// maxInbox bounds the received bytes waiting for the engine: a peer that
// floods past it is disconnected.
const maxInbox = 32 << 20

// inbox is an ordered queue of received messages (and, in the browser,
// assembled chunks) whose push never blocks, as a JS event handler must
// not.
type inbox struct {
	mu     sync.Mutex
	q      []swarm.Received
	size   int
	err    error
	notify chan struct{}
}

func newInbox() *inbox { return &inbox{notify: make(chan struct{}, 1)} }

// push appends r and reports false, closing the inbox, when the queue is
// over its bound.
func (in *inbox) push(r swarm.Received) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.err != nil {
		return false
	}
	if in.size+len(r.Msg) > maxInbox {
		in.err = fmt.Errorf("%w: peer sent more than %d unread bytes", swarm.ErrProtocol, maxInbox)
		in.wake()
		return false
	}
	in.q = append(in.q, r)
	in.size += len(r.Msg)
	in.wake()
	return true
}

func (in *inbox) close(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.err == nil {
		in.err = err
	}
	in.wake()
}

func (in *inbox) wake() {
	select {
	case in.notify <- struct{}{}:
	default:
	}
}

func (in *inbox) pop(ctx context.Context) (swarm.Received, error) {
	for {
		in.mu.Lock()
		if len(in.q) > 0 {
			r := in.q[0]
			in.q[0] = swarm.Received{}
			in.q = in.q[1:]
			in.size -= len(r.Msg)
			in.mu.Unlock()
			return r, nil
		}
		err := in.err
		in.mu.Unlock()
		if err != nil {
			return swarm.Received{}, err
		}
		select {
		case <-in.notify:
		case <-ctx.Done():
			return swarm.Received{}, ctx.Err()
		}
	}
}

// channelTransport is a Transport over a pion data channel, natively or in
// the browser.
type channelTransport struct {
	dc     *webrtc.DataChannel
	in     *inbox
	low    chan struct{}
	closed chan struct{}
	once   sync.Once
	pump   pump // where the channel's messages come from
}

var _ swarm.Transport = (*channelTransport)(nil)

// newChannelTransport wraps an open data channel.
func newChannelTransport(dc *webrtc.DataChannel) *channelTransport {
	t := &channelTransport{dc: dc, in: newInbox(), low: make(chan struct{}, 1), closed: make(chan struct{})}
	dc.SetBufferedAmountLowThreshold(sendLowWater)
	t.watchLow()
	dc.OnClose(func() { t.shut() })
	t.receive()
	return t
}

func (t *channelTransport) Send(ctx context.Context, b []byte) error {
	for t.dc.BufferedAmount() > sendHighWater {
		if err := t.drained(ctx); err != nil {
			return err
		}
	}
	select {
	case <-t.closed:
		return swarm.ErrClosed
	default:
	}
	return t.send(b)
}

// onLow has the channel's bufferedamountlow events wake waitLow.
func (t *channelTransport) onLow() {
	t.dc.OnBufferedAmountLow(func() {
		select {
		case t.low <- struct{}{}:
		default:
		}
	})
}

// waitLow waits for the channel's next bufferedamountlow event (onLow).
func (t *channelTransport) waitLow(ctx context.Context) error {
	select {
	case <-t.low:
		return nil
	case <-t.closed:
		return swarm.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Recv returns the next message. On a transport that assembles chunks
// (in the browser), Next is called instead.
func (t *channelTransport) Recv(ctx context.Context) ([]byte, error) {
	r, err := t.in.pop(ctx)
	return r.Msg, err
}

func (t *channelTransport) Close() error {
	t.shut()
	return t.dc.Close()
}

func (t *channelTransport) shut() {
	t.once.Do(func() {
		close(t.closed)
		t.in.close(swarm.ErrClosed)
	})
}
