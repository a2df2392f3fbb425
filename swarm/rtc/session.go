package rtc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// Connection set-up bounds. Incoming and outgoing connections have their
// own caps, so a flood of offers cannot take the slots this peer needs to
// fetch what it misses; one remote peer gets a few incoming slots at most.
const (
	gatherTimeout   = 3 * time.Second  // ICE gathering before the SDP goes out anyway
	connectTimeout  = 20 * time.Second // offer sent to data channel open
	maxOutgoing     = 128              // outgoing peer connections being set up or open
	maxIncoming     = 128              // incoming ones
	maxPerPeer      = 32               // incoming ones from one remote peer: one per file, so a collection needs several
	disconnectGrace = 2 * time.Second  // ICE disconnected this long ends a session
)

// labelPrefix starts the label of every data channel; the file's digest
// follows.
const labelPrefix = "tabswarm/1/"

// sessionKey names a session so that no remote peer can pick a key that
// another session holds: the remote's ID is part of it, and the session ID
// of an outgoing session is ours.
type sessionKey struct {
	remote   string
	id       string
	incoming bool
}

// direction indexes Connector.count.
func (k sessionKey) direction() int {
	if k.incoming {
		return 1
	}
	return 0
}

// session is one WebRTC peer connection carrying one file's data channel
// between this peer and a remote one.
type session struct {
	key    sessionKey
	digest swarm.Hash
	pc     *webrtc.PeerConnection
	opened chan struct{} // closed when the data channel opens
	ended  chan struct{} // closed when the session ends
	once   sync.Once
	end    sync.Once

	mu sync.Mutex
	t  *channelTransport // the file's channel, once known
}

// setPC and peerConn set and read s's peer connection, which is made after
// s is registered.
func (s *session) setPC(pc *webrtc.PeerConnection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pc = pc
}

func (s *session) peerConn() *webrtc.PeerConnection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pc
}

// sessions counts the sessions this process dialled.
var sessions atomic.Uint64

// newSessionID returns the ID of a session to dial: a count, so that a
// later session of this peer's has the greater ID (swarm.Conn.Session),
// then random bytes, so that no one else can guess it.
func newSessionID() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%016x", sessions.Add(1)) + hex.EncodeToString(b[:])
}

// reserve claims a slot for a session under key k, before any peer
// connection exists, and reports false when the caps are reached or the key
// is taken.
func (c *Connector) reserve(k sessionKey, d swarm.Hash) (*session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := maxOutgoing
	if k.incoming {
		limit = maxIncoming
		if c.perPeer[k.remote] >= maxPerPeer {
			return nil, false
		}
	}
	if c.count[k.direction()] >= limit || c.sessions[k] != nil {
		return nil, false
	}
	s := &session{key: k, digest: d, opened: make(chan struct{}), ended: make(chan struct{})}
	c.sessions[k] = s
	c.count[k.direction()]++
	if k.incoming {
		c.perPeer[k.remote]++
	}
	return s, true
}

// endSession frees s's slot, closes its transport and peer connection.
func (c *Connector) endSession(s *session) {
	s.end.Do(func() {
		c.mu.Lock()
		if c.sessions[s.key] == s {
			delete(c.sessions, s.key)
			c.count[s.key.direction()]--
			if s.key.incoming {
				if c.perPeer[s.key.remote]--; c.perPeer[s.key.remote] == 0 {
					delete(c.perPeer, s.key.remote)
				}
			}
		}
		c.mu.Unlock()
		// A browser closing its peer connection closes the data channels
		// without a close event, so end the transport here.
		s.mu.Lock()
		t := s.t
		s.mu.Unlock()
		if t != nil {
			t.shut()
		}
		close(s.ended)
		if pc := s.peerConn(); pc != nil {
			pc.Close()
		}
	})
}

func (c *Connector) newPeerConnection() (*webrtc.PeerConnection, error) {
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{ICEServers: c.opts.ICEServers})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	// In the browser, pion reports the end of gathering only through the
	// candidate handler, so one must be set.
	pc.OnICECandidate(func(*webrtc.ICECandidate) {})
	return pc, nil
}

// Dial implements swarm.Connector: it offers a connection to peer for file
// d through the tracker and returns its data channel once open.
func (c *Connector) Dial(ctx context.Context, d swarm.Hash, peer string) (swarm.Conn, error) {
	<-c.ready
	self := c.PeerID()
	s, ok := c.reserve(sessionKey{remote: peer, id: newSessionID()}, d)
	if !ok {
		return swarm.Conn{}, fmt.Errorf("dialling %s: %w", peer, ErrTooMany)
	}
	pc, err := c.newPeerConnection()
	if err != nil {
		c.endSession(s)
		return swarm.Conn{}, err
	}
	s.setPC(pc)
	if err := c.offer(ctx, s); err != nil {
		c.endSession(s)
		return swarm.Conn{}, err
	}
	select {
	case <-s.opened:
		s.mu.Lock()
		defer s.mu.Unlock()
		return swarm.Conn{Digest: d, Peer: peer, Initiator: self, Session: s.key.id, Transport: s.t.transport()}, nil
	case <-s.ended:
		return swarm.Conn{}, fmt.Errorf("dialling %s: %w", peer, swarm.ErrClosed)
	case <-ctx.Done():
		c.endSession(s)
		return swarm.Conn{}, ctx.Err()
	}
}

func (c *Connector) offer(ctx context.Context, s *session) error {
	pc := s.peerConn()
	dc, err := pc.CreateDataChannel(labelPrefix+s.digest.String(), nil)
	if err != nil {
		return fmt.Errorf("create data channel: %w", err)
	}
	c.watch(s, dc, nil)
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	sdp, err := c.gather(ctx, pc, offer)
	if err != nil {
		return err
	}
	return c.send(ctx, signaling.Message{
		Type:   signaling.TypeSignal,
		To:     s.key.remote,
		Digest: s.digest.String(),
		Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: s.key.id, SDP: sdp},
	})
}

// gather sets desc as the local description and returns the SDP once ICE
// gathering is done, so the candidates travel inside it.
func (c *Connector) gather(ctx context.Context, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (string, error) {
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	t := time.NewTimer(gatherTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return pc.LocalDescription().SDP, nil
}

// watch wraps dc as s's transport, calls opened (if any) once it opens,
// ends the session when the connection fails or the transport closes, and
// gives up if nothing opens in time.
func (c *Connector) watch(s *session, dc *webrtc.DataChannel, opened func(*channelTransport)) {
	// The transport takes messages from the start: the far end may send its
	// hello before our open event fires.
	t := newChannelTransport(dc)
	s.mu.Lock()
	s.t = t
	s.mu.Unlock()
	var once sync.Once
	open := func() {
		once.Do(func() {
			close(s.opened)
			if opened != nil {
				opened(t)
			}
		})
	}
	dc.OnOpen(open)
	if dc.ReadyState() == webrtc.DataChannelStateOpen {
		open()
	}
	pc := s.peerConn()
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			c.endSession(s)
		case webrtc.PeerConnectionStateDisconnected:
			// A closed tab may vanish without a goodbye: ICE notices the
			// silence within seconds. Give a brief glitch a moment to heal.
			time.AfterFunc(disconnectGrace, func() {
				if pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected {
					c.endSession(s)
				}
			})
		}
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		timer := time.NewTimer(connectTimeout)
		defer timer.Stop()
		select {
		case <-s.opened:
		case <-timer.C:
			c.log.Debug("connection timed out", "peer", s.key.remote)
			c.endSession(s)
			return
		case <-s.ended:
			return
		case <-c.ctx.Done():
			c.endSession(s)
			return
		}
		// Open: the engine owns the transport; its close ends the session.
		select {
		case <-t.closed:
		case <-c.ctx.Done():
		}
		c.endSession(s)
	}()
}

// signal handles a relayed signal from peer from.
func (c *Connector) signal(ctx context.Context, from, digest string, sig signaling.Signal) {
	switch sig.Kind {
	case signaling.SignalOffer:
		d, err := swarm.ParseDigest(digest)
		if err != nil || !c.h.Accept(d, from) {
			return
		}
		s, ok := c.reserve(sessionKey{remote: from, id: sig.Session, incoming: true}, d)
		if !ok {
			c.log.Debug("offer refused", "peer", from, "err", ErrTooMany)
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := c.answer(ctx, s, sig.SDP); err != nil {
				c.log.Debug("answering", "peer", from, "err", err)
				c.endSession(s)
			}
		}()
	case signaling.SignalAnswer:
		c.mu.Lock()
		s := c.sessions[sessionKey{remote: from, id: sig.Session}]
		c.mu.Unlock()
		if s == nil || s.peerConn() == nil {
			return
		}
		if err := s.peerConn().SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP}); err != nil {
			c.log.Debug("bad answer", "peer", from, "err", err)
			c.endSession(s)
		}
	}
}

// answer sets up the incoming session s from its offer's SDP and sends the
// answer; the data channel, once open, goes to the engine.
func (c *Connector) answer(ctx context.Context, s *session, offer string) error {
	pc, err := c.newPeerConnection()
	if err != nil {
		return err
	}
	s.setPC(pc)
	from := s.key.remote
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		d, err := swarm.ParseDigest(strings.TrimPrefix(dc.Label(), labelPrefix))
		if err != nil || !strings.HasPrefix(dc.Label(), labelPrefix) || d != s.digest {
			c.endSession(s)
			return
		}
		c.watch(s, dc, func(t *channelTransport) {
			c.h.Incoming(swarm.Conn{Digest: d, Peer: from, Initiator: from, Session: s.key.id, Transport: t.transport()})
		})
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	sdp, err := c.gather(ctx, pc, ans)
	if err != nil {
		return err
	}
	return c.send(ctx, signaling.Message{
		Type:   signaling.TypeSignal,
		To:     from,
		Digest: s.digest.String(),
		Signal: &signaling.Signal{Kind: signaling.SignalAnswer, Session: s.key.id, SDP: sdp},
	})
}
