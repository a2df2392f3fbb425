package swarm

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// maxUploadQueue bounds the chunk requests a peer may have queued with us;
// requests past it are rejected.
const maxUploadQueue = 64

// assembly collects the blocks of one requested chunk.
type assembly struct {
	buf   []byte
	got   Bitfield // blocks received
	since time.Time
}

// peerConn is one wire connection to a remote peer for one file. Its
// reader and writer goroutines talk to the file's loop through channels;
// the fields under "loop" belong to that loop alone.
type peerConn struct {
	id        string // remote peer ID
	initiator string // peer ID of the side that opened the connection
	t         Transport
	out       outbox

	bytesIn, bytesOut atomic.Int64

	// loop
	hello     bool
	have      Bitfield
	asked     map[int]*assembly
	depth     int
	rateIn    float64 // bytes/s, smoothed
	rateOut   float64
	lastIn    int64
	lastOut   int64
	delivered int

	closeOnce sync.Once
	done      chan struct{}
}

func newPeerConn(id, initiator string, t Transport) *peerConn {
	return &peerConn{
		id:        id,
		initiator: initiator,
		t:         t,
		out:       outbox{notify: make(chan struct{}, 1)},
		asked:     make(map[int]*assembly),
		depth:     minPipeline,
		done:      make(chan struct{}),
	}
}

func (c *peerConn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.t.Close()
	})
}

// outbox holds what the writer goroutine sends: control frames first, then
// requested chunks, block by block.
type outbox struct {
	mu        sync.Mutex
	ctrl      [][]byte
	uploads   []int
	cancelled map[int]bool
	notify    chan struct{}
}

func (o *outbox) wake() {
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

func (o *outbox) control(b []byte) {
	o.mu.Lock()
	o.ctrl = append(o.ctrl, b)
	o.mu.Unlock()
	o.wake()
}

// upload queues chunk i and reports false when the queue is full.
func (o *outbox) upload(i int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.uploads) >= maxUploadQueue {
		return false
	}
	delete(o.cancelled, i)
	o.uploads = append(o.uploads, i)
	o.wake()
	return true
}

func (o *outbox) cancel(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cancelled == nil {
		o.cancelled = make(map[int]bool)
	}
	o.cancelled[i] = true
}

func (o *outbox) isCancelled(i int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cancelled[i]
}

// next returns a control frame, or else the next upload that was not
// cancelled.
func (o *outbox) next() (ctrl []byte, upload int, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.ctrl) > 0 {
		b := o.ctrl[0]
		o.ctrl[0] = nil
		o.ctrl = o.ctrl[1:]
		return b, 0, true
	}
	for len(o.uploads) > 0 {
		i := o.uploads[0]
		o.uploads = o.uploads[1:]
		if o.cancelled[i] {
			delete(o.cancelled, i)
			continue
		}
		return nil, i, true
	}
	return nil, 0, false
}

// takeControl pops one control frame, if any.
func (o *outbox) takeControl() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.ctrl) == 0 {
		return nil
	}
	b := o.ctrl[0]
	o.ctrl[0] = nil
	o.ctrl = o.ctrl[1:]
	return b
}

// writeLoop sends c's outbox until ctx ends or the transport fails. Chunks
// come from read, block by block, with control frames slipped in between
// blocks so a request or cancel never waits behind an upload.
func (c *peerConn) writeLoop(ctx context.Context, read func(context.Context, int) ([]byte, error)) error {
	for {
		ctrl, idx, ok := c.out.next()
		if !ok {
			select {
			case <-c.out.notify:
				continue
			case <-c.done:
				return ErrClosed
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ctrl != nil {
			if err := c.t.Send(ctx, ctrl); err != nil {
				return err
			}
			continue
		}
		data, err := read(ctx, idx)
		if err != nil {
			c.out.control(appendIndex(nil, kindReject, idx))
			continue
		}
		for off := 0; off < len(data); off += BlockSize {
			for b := c.out.takeControl(); b != nil; b = c.out.takeControl() {
				if err := c.t.Send(ctx, b); err != nil {
					return err
				}
			}
			if c.out.isCancelled(idx) {
				break
			}
			end := min(off+BlockSize, len(data))
			if err := c.t.Send(ctx, appendPiece(make([]byte, 0, 9+end-off), idx, off, data[off:end])); err != nil {
				return err
			}
			c.bytesOut.Add(int64(end - off))
		}
	}
}
