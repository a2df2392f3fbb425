package tracker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// peer is one WebSocket connection. Its reader goroutine reads messages and
// has a handler goroutine handle each. Whatever sends to a peer never
// blocks: it queues the frame and, unless one runs, starts a writer
// goroutine that drains the queue and ends; a full queue disconnects the
// peer instead. An idle peer has no goroutine but its reader, and a timer
// that pings it.
type peer struct {
	id      string
	ws      *websocket.Conn
	conn    net.Conn // ws's connection, for write deadlines
	opts    *Options
	limiter *rate.Limiter
	strikes *rate.Limiter   // cap violations; when empty, the peer is closed
	ctx     context.Context // done once the peer is being disconnected
	cancel  context.CancelCauseFunc
	closing atomic.Bool // a final frame is queued: read no more
	pinger  *time.Timer // runs pingIdle

	mu        sync.Mutex     // guards the send queue
	queue     []frame        // frames waiting to be written: queue[head:]
	head      int            // where the waiting frames start
	queued    int            // bytes of the waiting frames
	relayed   int            // bytes of the waiting relayed frames, reserved ones included
	relays    int            // waiting relayed frames, reserved ones included
	writing   bool           // a writer goroutine is draining the queue
	failed    bool           // a write failed: the stream may end mid-frame
	idleSince time.Time      // when the queue was last drained
	writers   sync.WaitGroup // the writer goroutine, while one runs

	name          string                  // from its hello; guarded by registry.mu
	ip            string                  // the client address key its connection counts against
	bigBytes      *rate.Limiter           // bytes of big frames it may send (Options.BigFrameRate)
	manifestBytes int64                   // of the swarms whose manifest it brought; guarded by registry.mu
	swarms        map[swarm.Hash]struct{} // guarded by registry.mu
	offers        map[offerKey]offer      // relayed, unanswered; guarded by registry.mu
}

// frame is one queued outgoing message, or a ping. A final frame (close !=
// nil) is the last one: the writer stops after it and the connection closes
// with that status.
type frame struct {
	data    []byte
	close   *closeFrame
	ping    bool
	relayed bool // from another peer, its room reserved with reserveRelay
}

// keptQueue is the send queue capacity a drained queue keeps; a larger
// one is let go, so that a burst's queue does not stay with an idle peer.
const keptQueue = 4

// closeFrame is the close status that follows a final frame. It is also the
// error the writer ends with after writing one.
type closeFrame struct {
	status websocket.StatusCode
	reason string
}

func (c *closeFrame) Error() string {
	return "tracker: closing after final frame: " + c.reason
}

// newPeer returns a peer of node on ws, whose connection is conn,
// disconnected when ctx is done, that pings itself when idle for
// opts.PingInterval.
func newPeer(ctx context.Context, ws *websocket.Conn, conn net.Conn, opts *Options, node string) *peer {
	p := &peer{
		id:        newPeerID(node),
		ws:        ws,
		conn:      conn,
		opts:      opts,
		limiter:   rate.NewLimiter(rate.Limit(opts.MessageRate), opts.MessageBurst),
		bigBytes:  rate.NewLimiter(rate.Limit(opts.BigFrameRate), signaling.MaxMessageBytes),
		strikes:   rate.NewLimiter(rate.Limit(float64(opts.MaxStrikes)/60), opts.MaxStrikes),
		idleSince: time.Now(),
		swarms:    make(map[swarm.Hash]struct{}),
		offers:    make(map[offerKey]offer),
	}
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	p.pinger = time.AfterFunc(opts.PingInterval, p.pingIdle)
	return p
}

// log returns a logger for lines about p. It is made on each use, which is
// rare, rather than kept with every connection.
func (p *peer) log() *slog.Logger { return p.opts.Logger.With("peer_id", p.id) }

// peerIDLen is the length of a peer ID: 12 random bytes in hex, then the
// ID of the peer's node.
const peerIDLen = 24 + NodeIDLen

// newPeerID returns a new ID for a peer of node: 12 random bytes in hex,
// then node. The tracker alone picks IDs.
func newPeerID(node string) string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:]) + node
}

// send queues m without blocking. If the queue is full the peer is too slow
// and is disconnected.
func (p *peer) send(m signaling.Message) {
	b, err := json.Marshal(m)
	if err != nil { // only a bug gets here: every field marshals
		p.log().Error("tracker: encoding a message", "type", m.Type, "err", err)
		return
	}
	p.enqueue(frame{data: b})
}

// enqueue queues f without blocking and starts a writer if none runs. If
// the queue is full the peer is too slow and is disconnected.
func (p *peer) enqueue(f frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.enqueueLocked(f)
}

func (p *peer) enqueueLocked(f frame) {
	switch {
	case p.ctx.Err() != nil:
		return
	case len(p.queue)-p.head >= p.opts.SendQueue || p.queued+len(f.data) > p.opts.SendQueueBytes:
		p.cancel(errSlowPeer)
		return
	}
	p.queued += len(f.data)
	if p.head > 0 && len(p.queue) == cap(p.queue) { // reuse the written prefix
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
	p.queue = append(p.queue, f)
	if !p.writing {
		p.writing = true
		p.writers.Add(1)
		go p.writeQueued()
	}
}

// reply answers a request with id; replies to ID 0 are sent only when they
// report an error or carry data (query).
func (p *peer) reply(id uint64, m signaling.Message) {
	if id == 0 && m.Type == signaling.TypeOK {
		return
	}
	m.ID = id
	p.send(m)
}

// fail sends a typed error in reply to id (0 when the request had none).
func (p *peer) fail(id uint64, e *signaling.Error) {
	p.send(signaling.Message{Type: signaling.TypeError, ID: id, Error: e})
}

// finish queues data as the last frame, to be followed by a close with
// status. The reader stops reading.
func (p *peer) finish(data []byte, status websocket.StatusCode, reason string) {
	if p.closing.Swap(true) {
		return
	}
	p.enqueue(frame{data: data, close: &closeFrame{status: status, reason: reason}})
}

// errFinalFrame ends the reader once a final frame is queued.
var errFinalFrame = errors.New("tracker: final frame queued")

// writeQueued writes queued frames until the queue is empty, then ends. A
// failed or timed out write, or a final frame, disconnects the peer.
func (p *peer) writeQueued() {
	defer p.writers.Done()
	for {
		f, ok := p.next()
		if !ok {
			return
		}
		if err := p.write(f); err != nil {
			if _, final := err.(*closeFrame); !final {
				p.mu.Lock()
				p.failed = true
				p.mu.Unlock()
			}
			p.cancel(err)
			return
		}
	}
}

// next takes the next frame off the queue. When there is none, or the peer
// is being disconnected, it reports false and the writer must end.
func (p *peer) next() (frame, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head == len(p.queue) || p.ctx.Err() != nil {
		// Under p.mu, so that it cannot undo the deadline of a writer
		// started after this one.
		p.conn.SetWriteDeadline(time.Time{})
		p.writing = false
		p.idleSince = time.Now()
		p.queue, p.head, p.queued = p.queue[:0], 0, 0
		if cap(p.queue) > keptQueue {
			p.queue = nil
		}
		return frame{}, false
	}
	f := p.queue[p.head]
	p.queue[p.head] = frame{}
	p.head++
	p.queued -= len(f.data)
	if f.relayed {
		p.relayed -= len(f.data)
		p.relays--
	}
	return f, true
}

// reserveRelay reserves room for a relayed frame of n bytes in p's queue
// and reports whether there was some. Relayed frames may take at most half
// of the queue's frames and Options.RelayQueueBytes of its bytes: a sender
// that finds no room is refused (it is the one charged), and what is left
// keeps room for the tracker's own replies to p. A reserved frame is sent
// with relay.
func (p *peer) reserveRelay(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.relays >= p.opts.SendQueue/2 || p.relayed+n > p.opts.RelayQueueBytes {
		return false
	}
	p.relays++
	p.relayed += n
	return true
}

// relay queues data, a relayed frame whose room reserveRelay reserved.
func (p *peer) relay(data []byte) { p.enqueue(frame{data: data, relayed: true}) }

// write writes one frame within the write timeout; after a final frame it
// returns the frame's closeFrame.
//
// The timeout is the connection's write deadline, not a context: a context
// with a deadline costs a timer and, inside Write, a context.AfterFunc for
// every frame.
func (p *peer) write(f frame) error {
	p.conn.SetWriteDeadline(time.Now().Add(p.opts.WriteTimeout))
	if f.ping {
		ctx, cancel := context.WithTimeout(p.ctx, p.opts.WriteTimeout)
		defer cancel()
		return p.ws.Ping(ctx) // returns once the pong is in
	}
	if err := p.ws.Write(context.Background(), websocket.MessageText, f.data); err != nil {
		return err
	}
	if f.close != nil {
		return f.close
	}
	return nil
}

// pingIdle, run by p.pinger, queues a ping if nothing was written for the
// last ping interval, and sets the timer for the next check.
func (p *peer) pingIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return
	}
	wait := p.opts.PingInterval
	if !p.writing {
		if idle := time.Since(p.idleSince); idle >= wait {
			p.enqueueLocked(frame{ping: true})
		} else {
			wait -= idle
		}
	}
	p.pinger.Reset(wait)
}

// stopWriting stops the pings, drops the queue, ends a write in progress
// and waits for the writer, if one runs; p.ctx must be done. It reports
// whether a write failed, leaving the stream unfit for a close frame.
func (p *peer) stopWriting() (failed bool) {
	// enqueue and pingIdle check p.ctx under p.mu: after this critical
	// section, no writer starts and the timer stays stopped.
	p.mu.Lock()
	p.pinger.Stop()
	p.queue, p.head = nil, 0
	writing := p.writing
	p.mu.Unlock()
	if writing { // a write blocked on a peer that does not read ends now
		p.conn.SetWriteDeadline(time.Unix(1, 0))
	}
	p.writers.Wait()
	p.conn.SetWriteDeadline(time.Time{}) // for the close handshake
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}
