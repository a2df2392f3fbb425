package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// Logger receives connection events. Nil discards them.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between redials, which
	// doubles after each failed attempt (with jitter) and starts over after
	// a welcome. Zero means 250ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// OnConnect, when set, runs in its own goroutine after each welcome with
	// the new peer ID. Its ctx is cancelled when that connection drops, so a
	// peer uses it to (re-)announce what it holds. Run waits for it to
	// return before returning.
	OnConnect func(ctx context.Context, peerID string)
	// Buffer is the capacity of the Messages channel. Zero means 256.
	Buffer int
	// Token is a private tracker's access token; empty for an open tracker.
	// A native Client sends it in an "Authorization: Bearer" header; in a
	// browser it travels as the WebSocket URL's "token" query parameter,
	// the one way a browser can send it. Only the tracker at the Client's
	// URL gets it, and logs and errors show URLs through Redact. A wrong
	// token makes every dial fail with HTTP 401.
	Token string
}

// Client is a peer's connection to the tracker. It redials when the
// connection drops; see Run. Its methods are safe for concurrent use.
type Client struct {
	url     string
	opts    Options
	log     *slog.Logger
	msgs    chan Message
	nextID  atomic.Uint64
	started atomic.Bool

	mu   sync.Mutex
	sess *session      // the live connection; nil while down
	up   chan struct{} // closed while sess != nil
	name string        // said in a hello after each welcome, when set
}

// NewClient returns a Client for the tracker's WebSocket at url, a ws:// or
// wss:// URL ending in /ws. It does not dial; call Run.
func NewClient(url string, opts Options) *Client {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	return &Client{
		url:  url,
		opts: opts,
		log:  opts.Logger,
		msgs: make(chan Message, opts.Buffer),
		up:   make(chan struct{}),
	}
}

// Messages returns the messages the tracker sends unasked (ID 0): relayed
// signals, newcomer peers notices, and errors about messages sent with Send.
// The channel is bounded (Options.Buffer); a consumer that falls behind
// makes the Client drop the connection and redial rather than stall its
// reader, so messages are lost then. It is closed when Run returns.
func (c *Client) Messages() <-chan Message { return c.msgs }

// PeerID returns the ID the tracker assigned to the current connection, or ""
// while disconnected. It changes on every reconnect.
func (c *Client) PeerID() string {
	if s := c.current(); s != nil {
		return s.peerID
	}
	return ""
}

// Connected returns a channel that is closed while the Client is connected
// (welcomed). Receive from it to wait for a connection; fetch it again after
// a disconnect, since each connection gets a fresh one. See WaitConnected.
func (c *Client) Connected() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// WaitConnected blocks until the Client is connected or ctx is done.
func (c *Client) WaitConnected(ctx context.Context) error {
	select {
	case <-c.Connected():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("signaling: waiting for a connection: %w", ctx.Err())
	}
}

// Send queues m for the tracker without waiting for a reply. It clears m.ID,
// so an error the tracker reports about m (say unknown_peer for a signal)
// arrives on Messages with ID 0. It returns ErrNotConnected while
// disconnected, and blocks only while the outgoing queue is full.
func (c *Client) Send(ctx context.Context, m Message) error {
	s := c.current()
	if s == nil {
		return ErrNotConnected
	}
	m.ID = 0
	return s.send(ctx, m)
}

// Request sends m with a fresh ID and waits for the tracker's reply. A
// TypeError reply is returned together with its *Error (use errors.As). If the
// connection drops first the error wraps ErrConnectionLost; if ctx is done
// first it wraps ctx.Err().
func (c *Client) Request(ctx context.Context, m Message) (Message, error) {
	s := c.current()
	if s == nil {
		return Message{}, ErrNotConnected
	}
	m.ID = c.nextID.Add(1)
	reply, err := s.request(ctx, m)
	if err != nil {
		return Message{}, fmt.Errorf("signaling: %s request: %w", m.Type, err)
	}
	if reply.Type == TypeError {
		if reply.Error == nil {
			return reply, &Error{Code: CodeBadMessage, Message: "error reply without details"}
		}
		return reply, reply.Error
	}
	return reply, nil
}

// SetName sets the name the tracker shows for this peer (see TypeHello):
// it is cleaned by CleanName, said at once when connected, and again after
// every reconnect. It returns the cleaned name, or an error wrapping
// ErrBadName and keeps the old one.
func (c *Client) SetName(ctx context.Context, name string) (string, error) {
	clean, err := CleanName(name)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.name = clean
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		if err := s.send(ctx, Message{Type: TypeHello, Name: clean}); err != nil && !errors.Is(err, ErrNotConnected) {
			return clean, err
		}
	}
	return clean, nil
}

// hello says the Client's name, if it has one, on a fresh session.
func (c *Client) hello(s *session) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name != "" {
		s.send(s.ctx, Message{Type: TypeHello, Name: name})
	}
}

func (c *Client) current() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

func (c *Client) setSession(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = s
	close(c.up)
}

func (c *Client) clearSession() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = nil
	c.up = make(chan struct{})
}

func encode(m Message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("signaling: encoding %s: %w", m.Type, err)
	}
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, m.Type, len(b), MaxMessageBytes)
	}
	return b, nil
}
