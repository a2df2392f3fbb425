package swarm

import (
	"bytes"
	"context"
	"sync"
)

// defaultPipeLimit is a Pipe's buffer per direction when none is given.
const defaultPipeLimit = 1 << 20

// Pipe returns the two ends of an in-memory Transport pair, for tests and
// peers in one process. Each direction buffers up to limit bytes
// (zero or less: 1 MiB): Send blocks while the far end has that much
// unread, as a data channel's does above its high-water mark.
func Pipe(limit int) (Transport, Transport) {
	if limit <= 0 {
		limit = defaultPipeLimit
	}
	ab, ba := newPipeQueue(limit), newPipeQueue(limit)
	done := make(chan struct{})
	var once sync.Once
	a := &pipeEnd{in: ba, out: ab, done: done, once: &once}
	b := &pipeEnd{in: ab, out: ba, done: done, once: &once}
	return a, b
}

// pipeQueue is one direction of a Pipe.
type pipeQueue struct {
	mu       sync.Mutex
	q        [][]byte
	size     int
	limit    int
	readable chan struct{} // pinged when a message is queued
	writable chan struct{} // pinged when a message is taken
}

func newPipeQueue(limit int) *pipeQueue {
	return &pipeQueue{limit: limit, readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

// pipeEnd is one end of a Pipe. Closing either end closes both.
type pipeEnd struct {
	in, out *pipeQueue
	done    chan struct{}
	once    *sync.Once
}

var _ Transport = (*pipeEnd)(nil)

func (p *pipeEnd) closed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Send implements Transport. It queues a copy of b, as a data channel
// does.
func (p *pipeEnd) Send(ctx context.Context, b []byte) error {
	b = bytes.Clone(b)
	q := p.out
	for {
		if p.closed() {
			return ErrClosed
		}
		q.mu.Lock()
		if q.size == 0 || q.size+len(b) <= q.limit {
			q.q = append(q.q, b)
			q.size += len(b)
			q.mu.Unlock()
			ping(q.readable)
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.writable:
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Recv implements Transport. After the far end closes, it returns what
// was sent before, then ErrClosed.
func (p *pipeEnd) Recv(ctx context.Context) ([]byte, error) {
	q := p.in
	for {
		q.mu.Lock()
		if len(q.q) > 0 {
			b := q.q[0]
			q.q[0] = nil
			q.q = q.q[1:]
			q.size -= len(b)
			q.mu.Unlock()
			ping(q.writable)
			return b, nil
		}
		q.mu.Unlock()
		if p.closed() {
			return nil, ErrClosed
		}
		select {
		case <-q.readable:
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements Transport.
func (p *pipeEnd) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}
