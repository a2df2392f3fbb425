package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Timeouts of one connection.
const (
	dialTimeout    = 10 * time.Second // dial and WebSocket handshake
	welcomeTimeout = 10 * time.Second // from handshake to the welcome
	writeTimeout   = 10 * time.Second // one frame
	sendQueue      = 64               // frames waiting for the writer
)

// errSlowConsumer is the cause of a drop when Messages is full.
var errSlowConsumer = errors.New("signaling: Messages consumer too slow")

// session is one welcomed connection: a reader goroutine, a writer goroutine
// fed by a bounded channel, and the requests waiting for replies.
type session struct {
	ws     *websocket.Conn
	peerID string
	out    chan []byte
	ctx    context.Context // cancelled when the connection drops
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	pending map[uint64]chan Message // nil once the session is over
}

func newSession(ctx context.Context, ws *websocket.Conn, peerID string) *session {
	s := &session{
		ws:      ws,
		peerID:  peerID,
		out:     make(chan []byte, sendQueue),
		pending: make(map[uint64]chan Message),
	}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	return s
}

// send queues m for the writer.
func (s *session) send(ctx context.Context, m Message) error {
	b, err := encode(m)
	if err != nil {
		return err
	}
	if s.ctx.Err() != nil {
		return ErrNotConnected
	}
	select {
	case s.out <- b:
		return nil
	case <-s.ctx.Done():
		return ErrNotConnected
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request sends m, whose ID is set, and waits for the reply with that ID.
func (s *session) request(ctx context.Context, m Message) (Message, error) {
	ch := make(chan Message, 1)
	s.mu.Lock()
	if s.pending == nil {
		s.mu.Unlock()
		return Message{}, ErrConnectionLost
	}
	s.pending[m.ID] = ch
	s.mu.Unlock()
	defer s.forget(m.ID)

	if err := s.send(ctx, m); err != nil {
		if errors.Is(err, ErrNotConnected) {
			return Message{}, ErrConnectionLost
		}
		return Message{}, err
	}
	select {
	case reply := <-ch:
		return reply, nil
	case <-s.ctx.Done():
		return Message{}, fmt.Errorf("%w: %v", ErrConnectionLost, context.Cause(s.ctx))
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

func (s *session) forget(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, id)
}

// deliver hands a reply to the request waiting for it, if any still is.
func (s *session) deliver(m Message) {
	s.mu.Lock()
	ch := s.pending[m.ID]
	delete(s.pending, m.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- m // buffered, and each ID is delivered at most once
	}
}

// readLoop reads frames until the connection fails, routing replies to their
// requests and everything else to msgs.
func (s *session) readLoop(msgs chan<- Message) error {
	// Reads are not bound to s.ctx, so that a closing handshake started
	// after s.ctx is cancelled can still read the tracker's close frame.
	ctx := context.WithoutCancel(s.ctx)
	for {
		typ, b, err := s.ws.Read(ctx)
		if err != nil {
			return err
		}
		m, err := decode(typ, b)
		if err != nil {
			return err
		}
		if m.ID != 0 {
			s.deliver(m)
			continue
		}
		select {
		case msgs <- m:
		default:
			return errSlowConsumer
		}
	}
}

// writeLoop writes queued frames until the session ends.
func (s *session) writeLoop() error {
	for {
		select {
		case b := <-s.out:
			ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
			err := s.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return err
			}
		case <-s.ctx.Done():
			return nil
		}
	}
}

// end fails every waiting request; later requests fail at once.
func (s *session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = nil
}

// decode parses one frame from the tracker.
func decode(typ websocket.MessageType, b []byte) (Message, error) {
	var m Message
	if typ != websocket.MessageText {
		return m, fmt.Errorf("%w: binary frame", ErrProtocol)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: frame is not a message: %v", ErrProtocol, err)
	}
	return m, nil
}
