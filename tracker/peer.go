package tracker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// peer is one WebSocket connection. Its reader goroutine decodes and handles
// messages; its writer goroutine drains out. Whatever sends to a peer never
// blocks: a full out queue disconnects the peer instead.
type peer struct {
	id      string
	ws      *websocket.Conn
	log     *slog.Logger
	out     chan frame
	limiter *rate.Limiter
	strikes *rate.Limiter   // cap violations; when empty, the peer is closed
	ctx     context.Context // done once the peer is being disconnected
	cancel  context.CancelCauseFunc
	closing atomic.Bool // a final frame is queued: read no more

	swarms map[swarm.Hash]struct{} // guarded by registry.mu
	offers map[offerKey]offer      // relayed, unanswered; guarded by registry.mu
}

// frame is one queued outgoing message. A final frame (close != nil) is the
// last one: the writer stops after it and the connection closes with that
// status.
type frame struct {
	data  []byte
	close *closeFrame
}

// closeFrame is the close status that follows a final frame. It is also the
// error the writer ends with after writing one.
type closeFrame struct {
	status websocket.StatusCode
	reason string
}

func (c *closeFrame) Error() string {
	return "tracker: closing after final frame: " + c.reason
}

func newPeer(ctx context.Context, ws *websocket.Conn, opts Options) *peer {
	p := &peer{
		id:      newPeerID(),
		ws:      ws,
		out:     make(chan frame, opts.SendQueue),
		limiter: rate.NewLimiter(rate.Limit(opts.MessageRate), opts.MessageBurst),
		strikes: rate.NewLimiter(rate.Limit(float64(opts.MaxStrikes)/60), opts.MaxStrikes),
		swarms:  make(map[swarm.Hash]struct{}),
		offers:  make(map[offerKey]offer),
	}
	p.log = opts.Logger.With("peer_id", p.id)
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	return p
}

// newPeerID returns 16 random bytes in hex. The tracker alone picks IDs.
func newPeerID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// send queues m without blocking. If the queue is full the peer is too slow
// and is disconnected.
func (p *peer) send(m signaling.Message) {
	b, err := json.Marshal(m)
	if err != nil { // only a bug gets here: every field marshals
		p.log.Error("tracker: encoding a message", "type", m.Type, "err", err)
		return
	}
	p.enqueue(frame{data: b})
}

func (p *peer) enqueue(f frame) {
	if p.ctx.Err() != nil {
		return
	}
	select {
	case p.out <- f:
	default:
		p.cancel(errSlowPeer)
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

// writeLoop writes queued frames and pings an idle peer until the peer is
// disconnected or a write fails or times out.
func (p *peer) writeLoop(writeTimeout, pingInterval time.Duration) error {
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case f := <-p.out:
			ctx, cancel := context.WithTimeout(p.ctx, writeTimeout)
			err := p.ws.Write(ctx, websocket.MessageText, f.data)
			cancel()
			if err != nil {
				return err
			}
			if f.close != nil {
				return f.close
			}
			ping.Reset(pingInterval)
		case <-ping.C:
			ctx, cancel := context.WithTimeout(p.ctx, writeTimeout)
			err := p.ws.Ping(ctx)
			cancel()
			if err != nil {
				return err
			}
		case <-p.ctx.Done():
			return nil
		}
	}
}
