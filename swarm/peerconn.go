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

// assembly collects the blocks of one requested chunk, in order.
type assembly struct {
	blocks [][]byte
	next   int  // bytes received: the offset of the next block
	stale  bool // asked again after a cancel: blocks of the old send may come first
}

// join returns the chunk, size bytes, from its blocks.
func (a *assembly) join(size int) []byte {
	if len(a.blocks) == 1 {
		return a.blocks[0]
	}
	b := make([]byte, 0, size)
	for _, blk := range a.blocks {
		b = append(b, blk...)
	}
	return b
}

// peerConn is one wire connection to a remote peer for one file. Its
// reader and writer goroutines talk to the file's loop through channels;
// the fields under "loop" belong to that loop alone.
type peerConn struct {
	id        string // remote peer ID
	initiator string // peer ID of the side that opened the connection
	session   string // Conn.Session
	t         Transport
	asm       Assembler   // t, where it assembles the chunks asked of it; or nil
	uploader  ChunkSender // t, where it sends uploads from the store's bodies; or nil
	out       outbox

	bytesIn, bytesOut atomic.Int64
	now               func() time.Time // the file's clock
	sending           atomic.Int64     // when the Send under way began (Unix ns), or 0

	// loop
	since     time.Time // attached
	progress  time.Time // the last block or answer, or the first request after none were outstanding
	hello     bool      // theirs came
	greeted   bool      // ours is queued
	have      Bitfield
	asked     map[int]*assembly
	cancelled map[int]bool // chunks asked and then withdrawn: their blocks are ignored
	accepted  int64        // payload bytes of the blocks taken
	depth     int
	rateIn    float64 // bytes/s, smoothed
	rateOut   float64
	lastIn    int64
	lastOut   int64

	closeOnce sync.Once
	done      chan struct{}

	piece []byte // the writer's: every block of every upload is sent from it
}

// next reads what came next on c as an event for the file's loop: a
// frame, or, from an Assembler, a chunk or news of blocks taken.
func (c *peerConn) next(ctx context.Context) (event, error) {
	var r Received
	if c.asm != nil {
		var err error
		if r, err = c.asm.Next(ctx); err != nil {
			return event{}, err
		}
		c.bytesIn.Add(int64(r.Taken))
	} else {
		b, err := c.t.Recv(ctx)
		if err != nil {
			return event{}, err
		}
		r.Msg = b
	}
	if r.Msg == nil {
		return event{kind: evAssembled, c: c, got: r}, nil
	}
	fr, err := decodeFrame(r.Msg)
	if err != nil {
		return event{}, err
	}
	c.bytesIn.Add(int64(len(fr.Data)))
	return event{kind: evFrame, c: c, f: fr}, nil
}

// outranks reports whether both ends keep c rather than old, two
// connections between the same peers: the one the lower peer ID opened,
// so that two peers that dial each other at once agree on one; of two one
// peer opened, the later (greater Session), since a peer opens another
// when it has given up on the first, which the other end may not know
// yet.
func (c *peerConn) outranks(old *peerConn) bool {
	if c.initiator != old.initiator {
		return c.initiator < old.initiator
	}
	return c.session > old.session
}

// ours reports whether this node opened c: one the remote peer opened
// names that peer as its initiator.
func (c *peerConn) ours() bool { return c.initiator != c.id }

func newPeerConn(c Conn) *peerConn {
	return &peerConn{
		id:        c.Peer,
		initiator: c.Initiator,
		session:   c.Session,
		t:         c.Transport,
		out:       newOutbox(),
		asked:     make(map[int]*assembly),
		cancelled: make(map[int]bool),
		depth:     minPipeline,
		now:       time.Now,
		done:      make(chan struct{}),
	}
}

func (c *peerConn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.t.Close()
	})
}

// outbox holds what the writer sends: control frames first, then requested
// chunks, block by block.
type outbox struct {
	mu        sync.Mutex
	ctrl      [][]byte
	uploads   []int
	cancelled map[int]bool
	ctrlReady chan struct{} // pinged when a control frame is queued
	upReady   chan struct{} // pinged when an upload is queued
}

func newOutbox() outbox {
	return outbox{ctrlReady: make(chan struct{}, 1), upReady: make(chan struct{}, 1)}
}

func ping(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (o *outbox) control(b []byte) {
	o.mu.Lock()
	o.ctrl = append(o.ctrl, b)
	o.mu.Unlock()
	ping(o.ctrlReady)
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
	ping(o.upReady)
	return true
}

// cancel drops upload i, and stops it if it is being sent.
func (o *outbox) cancel(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cancelled == nil {
		o.cancelled = make(map[int]bool)
	}
	o.cancelled[i] = true
	ping(o.ctrlReady) // wakes a sendBody under way
}

func (o *outbox) isCancelled(i int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cancelled[i]
}

// nextUpload pops the next upload that was not cancelled.
func (o *outbox) nextUpload() (int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.uploads) > 0 {
		i := o.uploads[0]
		o.uploads = o.uploads[1:]
		if o.cancelled[i] {
			delete(o.cancelled, i)
			continue
		}
		return i, true
	}
	return 0, false
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

// loaded is a chunk read from the store for upload: its bytes, or a body
// c's transport sends itself (BodyReader, ChunkSender).
type loaded struct {
	idx  int
	data []byte
	body any
	err  error
}

// writeLoop sends c's outbox until ctx ends or the transport fails. A
// read-ahead goroutine loads the next requested chunk from the store while
// the current one is sent, and control frames slip in between blocks so a
// request or cancel never waits behind an upload.
func (c *peerConn) writeLoop(ctx context.Context, wg *sync.WaitGroup, read func(context.Context, int) loaded) error {
	chunks := make(chan loaded, 1)
	wg.Go(func() { c.readAhead(ctx, read, chunks) })
	for {
		if err := c.flushControl(ctx); err != nil {
			return err
		}
		select {
		case ch := <-chunks:
			if ch.err != nil {
				c.out.control(appendIndex(nil, kindReject, ch.idx))
				continue
			}
			send := c.sendChunk
			if ch.body != nil {
				send = c.sendBody
			}
			if err := send(ctx, ch); err != nil {
				return err
			}
		case <-c.out.ctrlReady:
		case <-c.done:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// send sends b, noting when it began so that the file's loop can drop a
// peer that stopped reading.
func (c *peerConn) send(ctx context.Context, b []byte) error {
	c.sending.Store(c.now().UnixNano())
	defer c.sending.Store(0)
	return c.t.Send(ctx, b)
}

// stuck reports whether a Send has been blocked since before deadline.
func (c *peerConn) stuck(deadline time.Time) bool {
	s := c.sending.Load()
	return s != 0 && s < deadline.UnixNano()
}

func (c *peerConn) flushControl(ctx context.Context) error {
	for b := c.out.takeControl(); b != nil; b = c.out.takeControl() {
		if err := c.send(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// sendChunk sends chunk ch from its bytes, block by block, with c's
// control frames between blocks.
func (c *peerConn) sendChunk(ctx context.Context, ch loaded) error {
	idx, data := ch.idx, ch.data
	for off := 0; off < len(data); off += BlockSize {
		if err := c.flushControl(ctx); err != nil {
			return err
		}
		if c.out.isCancelled(idx) {
			return nil
		}
		end := min(off+BlockSize, len(data))
		c.piece = appendPiece(c.piece[:0], idx, off, data[off:end])
		if err := c.send(ctx, c.piece); err != nil {
			return err
		}
		c.bytesOut.Add(int64(end - off))
	}
	return nil
}

// sendBody has c's transport send chunk ch from its body (ChunkSender),
// while c's control frames go out between its blocks. Cancelling the
// chunk stops it.
func (c *peerConn) sendBody(ctx context.Context, ch loaded) error {
	up, stop := context.WithCancel(ctx)
	defer stop()
	c.sending.Store(c.now().UnixNano())
	defer c.sending.Store(0)
	queued := 0
	done := make(chan error, 1)
	go func() {
		done <- c.uploader.SendChunk(up, appendPiece(nil, ch.idx, 0, nil), ch.body, func(sent int) {
			if sent > queued {
				c.bytesOut.Add(int64(sent - queued))
				queued = sent
				c.sending.Store(c.now().UnixNano()) // not stuck while it moves
			}
		})
	}()
	for {
		select {
		case err := <-done:
			if err != nil && up.Err() != nil && ctx.Err() == nil {
				return nil // the chunk was cancelled
			}
			return err
		case <-c.out.ctrlReady:
			if c.out.isCancelled(ch.idx) {
				stop()
			}
			if err := c.flushControl(ctx); err != nil {
				stop()
				<-done
				return err
			}
		case <-c.done:
			stop()
			<-done
			return ErrClosed
		}
	}
}

// readAhead loads requested chunks in order, one ahead of the writer.
func (c *peerConn) readAhead(ctx context.Context, read func(context.Context, int) loaded, out chan<- loaded) {
	for {
		idx, ok := c.out.nextUpload()
		if !ok {
			select {
			case <-c.out.upReady:
				continue
			case <-c.done:
				return
			case <-ctx.Done():
				return
			}
		}
		ch := read(ctx, idx)
		ch.idx = idx
		select {
		case out <- ch:
		case <-c.done:
			return
		case <-ctx.Done():
			return
		}
	}
}
