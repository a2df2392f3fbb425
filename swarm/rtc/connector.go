// Package rtc is tabswarm's connector: it keeps a peer's connection to the
// tracker (signalling), finds peers through it, and sets up a WebRTC data
// channel per file and peer pair, natively with pion or in a browser
// through pion's js/wasm bindings. Each open channel becomes a
// swarm.Transport that the engine (swarm.Node) speaks the wire protocol
// over; this package knows nothing of chunks.
package rtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// Options configures a Connector. The zero value of each field is a
// documented default; Tracker is required.
type Options struct {
	// Tracker is the WebSocket URL of the tracker's signalling endpoint,
	// ws://host:port/ws.
	Tracker string
	// Token is a private tracker's access token; empty for an open one.
	Token string
	// ICEServers are STUN or TURN servers for peers on different networks.
	// None are needed on a LAN.
	ICEServers []webrtc.ICEServer
	// Logger receives the connector's logs. Nil: discard.
	Logger *slog.Logger
}

// Connector is a swarm.Connector over a tracker and WebRTC.
type Connector struct {
	opts   Options
	log    *slog.Logger
	client *signaling.Client
	api    *webrtc.API
	send   func(context.Context, signaling.Message) error // the client's Send; tests replace it

	ready chan struct{} // closed once Run has set ctx and h
	ctx   context.Context
	h     swarm.Handler
	wg    sync.WaitGroup // session goroutines

	mu       sync.Mutex
	sessions map[sessionKey]*session
	count    [2]int // sessions per direction: outgoing, incoming
	perPeer  map[string]int
}

var _ swarm.Connector = (*Connector)(nil)

// New returns a Connector; the engine's Node runs it.
func New(opts Options) *Connector {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Connector{
		opts:     opts,
		log:      opts.Logger,
		api:      newAPI(),
		ready:    make(chan struct{}),
		sessions: make(map[sessionKey]*session),
		perPeer:  make(map[string]int),
	}
	c.client = signaling.NewClient(opts.Tracker, signaling.Options{
		Logger: opts.Logger,
		Token:  opts.Token,
		OnConnect: func(ctx context.Context, _ string) {
			<-c.ready
			c.h.Connected(ctx)
		},
	})
	c.send = c.client.Send
	return c
}

// Run implements swarm.Connector: it connects to the tracker, reconnecting
// as needed, until ctx ends, then closes every peer connection and waits
// for their goroutines.
func (c *Connector) Run(ctx context.Context, h swarm.Handler) error {
	select {
	case <-c.ready:
		return fmt.Errorf("rtc: %w", swarm.ErrRunning)
	default:
	}
	c.ctx, c.h = ctx, h
	close(c.ready)
	errc := make(chan error, 1)
	go func() { errc <- c.client.Run(ctx) }()
	var err error
loop:
	for {
		select {
		case m := <-c.client.Messages():
			c.dispatch(ctx, m)
		case err = <-errc:
			break loop
		}
	}
	c.CloseAll()
	c.wg.Wait()
	return err
}

// PeerID implements swarm.Connector.
func (c *Connector) PeerID() string { return c.client.PeerID() }

// WaitConnected implements swarm.Connector.
func (c *Connector) WaitConnected(ctx context.Context) error {
	if err := c.client.WaitConnected(ctx); err != nil {
		return fmt.Errorf("%w: %w", swarm.ErrNoTracker, err)
	}
	return nil
}

// Query implements swarm.Connector.
func (c *Connector) Query(ctx context.Context, d swarm.Hash) ([]byte, []string, error) {
	if err := c.WaitConnected(ctx); err != nil {
		return nil, nil, err
	}
	reply, err := c.client.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: d.String()})
	var te *signaling.Error
	if errors.As(err, &te) && te.Code == signaling.CodeUnknownFile {
		return nil, nil, fmt.Errorf("%s: %w", d, swarm.ErrNoPeers)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("asking the tracker for %s: %w", d, err)
	}
	return reply.Manifest, peerIDs(reply.Peers), nil
}

func peerIDs(ps []signaling.PeerInfo) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// Announce implements swarm.Connector.
func (c *Connector) Announce(ctx context.Context, a swarm.Announcement) error {
	msg := signaling.Message{
		Type: signaling.TypeAnnounce, Digest: a.Digest.String(), Have: a.Have, Complete: a.Complete,
		Uploaded: a.Uploaded, Downloaded: a.Downloaded,
	}
	if a.P2T != nil {
		msg.Manifest = a.P2T
	}
	_, err := c.client.Request(ctx, msg)
	return err
}

// SetName sets the name the tracker shows others for this peer instead of
// its peer ID (see signaling.TypeHello) and returns it cleaned; a name
// signaling.CleanName refuses is an error and changes nothing.
func (c *Connector) SetName(ctx context.Context, name string) (string, error) {
	return c.client.SetName(ctx, name)
}

// Leave implements swarm.Connector.
func (c *Connector) Leave(ctx context.Context, d swarm.Hash) {
	c.client.Send(ctx, signaling.Message{Type: signaling.TypeLeave, Digest: d.String()})
}

// dispatch handles one unsolicited message from the tracker.
func (c *Connector) dispatch(ctx context.Context, m signaling.Message) {
	switch m.Type {
	case signaling.TypeSignal:
		if m.Signal != nil {
			c.signal(ctx, m.From, m.Digest, *m.Signal)
		}
	case signaling.TypePeers:
		if d, err := swarm.ParseDigest(m.Digest); err == nil {
			c.h.Found(d, peerIDs(m.Peers))
		}
	}
}

// CloseAll ends every session now, closing its peer connection so that
// the peer at the far end hears it at once: a tab calls it as its page
// goes away, since otherwise its peers notice only when ICE gives up,
// seconds later. The connector keeps running; later dials and offers make
// new sessions.
func (c *Connector) CloseAll() {
	c.mu.Lock()
	all := make([]*session, 0, len(c.sessions))
	for _, s := range c.sessions {
		all = append(all, s)
	}
	c.mu.Unlock()
	for _, s := range all {
		c.endSession(s)
	}
}
