package swarm

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
)

// Connection set-up bounds.
const (
	gatherTimeout   = 3 * time.Second  // ICE gathering before the SDP goes out anyway
	connectTimeout  = 20 * time.Second // offer sent to data channel open
	maxSessions     = 256              // peer connections being set up or open
	disconnectGrace = 2 * time.Second  // ICE disconnected this long ends a session
)

// labelPrefix starts the label of every data channel; the file's digest
// follows.
const labelPrefix = "tabswarm/1/"

// rtcSession is one WebRTC peer connection carrying one file's data
// channel between this node and a remote peer.
type rtcSession struct {
	id     string
	remote string
	digest Hash
	pc     *webrtc.PeerConnection
	opened chan struct{} // closed when the data channel opens
	ended  chan struct{} // closed when the session ends
	once   sync.Once
	end    sync.Once
	t      atomic.Pointer[channelTransport] // the file's channel, once known
}

func newSession(id, remote string, pc *webrtc.PeerConnection) *rtcSession {
	return &rtcSession{id: id, remote: remote, pc: pc, opened: make(chan struct{}), ended: make(chan struct{})}
}

func newSessionID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// addSession registers s and reports false when there are too many.
func (n *Node) addSession(s *rtcSession) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.sessions) >= maxSessions {
		return false
	}
	n.sessions[s.id] = s
	return true
}

func (n *Node) endSession(s *rtcSession) {
	n.mu.Lock()
	delete(n.sessions, s.id)
	n.mu.Unlock()
	// A browser closing its peer connection closes the data channels
	// without a close event, so end the transport here.
	if t := s.t.Load(); t != nil {
		t.shut()
	}
	s.end.Do(func() { close(s.ended) })
	s.pc.Close()
}

// dialing reports whether a connection to remote for d is being set up.
func (n *Node) dialing(d Hash, remote string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.sessions {
		if s.remote == remote && s.digest == d {
			return true
		}
	}
	return false
}

func (n *Node) newPeerConnection() (*webrtc.PeerConnection, error) {
	pc, err := n.api.NewPeerConnection(webrtc.Configuration{ICEServers: n.opts.ICEServers})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	// In the browser, pion reports the end of gathering only through the
	// candidate handler, so one must be set.
	pc.OnICECandidate(func(*webrtc.ICECandidate) {})
	return pc, nil
}

// dial opens a connection to remote for file f and attaches it once its
// data channel is open.
func (n *Node) dial(ctx context.Context, f *file, remote string) {
	pc, err := n.newPeerConnection()
	if err != nil {
		n.log.Error("dial", "peer", remote, "err", err)
		return
	}
	s := newSession(newSessionID(), remote, pc)
	s.digest = f.m.Digest
	if !n.addSession(s) {
		pc.Close()
		return
	}
	// Until the channel opens or the attempt fails, the file is not
	// stalled: a peer is on its way.
	f.dialing.Add(1)
	go func() {
		defer f.dialing.Add(-1)
		select {
		case <-s.opened:
		case <-s.ended:
		}
	}()
	if err := n.offer(ctx, s, f); err != nil {
		n.log.Debug("dial", "peer", remote, "err", err)
		n.endSession(s)
	}
}

func (n *Node) offer(ctx context.Context, s *rtcSession, f *file) error {
	dc, err := s.pc.CreateDataChannel(labelPrefix+f.m.Digest.String(), nil)
	if err != nil {
		return fmt.Errorf("create data channel: %w", err)
	}
	self := n.client.PeerID()
	n.watch(ctx, s, dc, f, self)
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	sdp, err := n.gather(ctx, s.pc, offer)
	if err != nil {
		return err
	}
	return n.client.Send(ctx, signaling.Message{
		Type:   signaling.TypeSignal,
		To:     s.remote,
		Digest: f.m.Digest.String(),
		Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: s.id, SDP: sdp},
	})
}

// gather sets desc as the local description and returns the SDP once ICE
// gathering is done, so the candidates travel inside it.
func (n *Node) gather(ctx context.Context, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (string, error) {
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-done:
	case <-time.After(gatherTimeout):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return pc.LocalDescription().SDP, nil
}

// watch attaches dc to f once it opens, ends the session when the
// connection fails or the wire connection ends, and gives up if nothing
// opens in time.
func (n *Node) watch(ctx context.Context, s *rtcSession, dc *webrtc.DataChannel, f *file, initiator string) {
	// The transport takes messages from the start: the far end may send its
	// hello before our open event fires.
	t := newChannelTransport(dc)
	s.t.Store(t)
	open := func() {
		s.once.Do(func() {
			close(s.opened)
			c := newPeerConn(s.remote, initiator, t)
			f.attach(ctx, c)
			go func() {
				select {
				case <-c.done:
				case <-ctx.Done():
				}
				n.endSession(s)
			}()
		})
	}
	dc.OnOpen(open)
	if dc.ReadyState() == webrtc.DataChannelStateOpen {
		open()
	}
	s.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			n.endSession(s)
		case webrtc.PeerConnectionStateDisconnected:
			// A closed tab may vanish without a goodbye: ICE notices the
			// silence within seconds. Give a brief glitch a moment to heal.
			time.AfterFunc(disconnectGrace, func() {
				if s.pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected {
					n.endSession(s)
				}
			})
		}
	})
	go func() {
		t := time.NewTimer(connectTimeout)
		defer t.Stop()
		select {
		case <-s.opened:
		case <-t.C:
			n.log.Debug("connection timed out", "peer", s.remote)
			n.endSession(s)
		case <-ctx.Done():
			n.endSession(s)
		}
	}()
}

// signal handles a relayed signal from peer from.
func (n *Node) signal(ctx context.Context, from, digest string, sig signaling.Signal) {
	switch sig.Kind {
	case signaling.SignalOffer:
		go func() {
			if err := n.answer(ctx, from, digest, sig); err != nil {
				n.log.Debug("answering", "peer", from, "err", err)
			}
		}()
	case signaling.SignalAnswer:
		n.mu.Lock()
		s := n.sessions[sig.Session]
		n.mu.Unlock()
		if s == nil || s.remote != from {
			return
		}
		if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP}); err != nil {
			n.log.Debug("bad answer", "peer", from, "err", err)
			n.endSession(s)
		}
	}
}

func (n *Node) answer(ctx context.Context, from, digest string, sig signaling.Signal) error {
	pc, err := n.newPeerConnection()
	if err != nil {
		return err
	}
	s := newSession(sig.Session, from, pc)
	if !n.addSession(s) {
		pc.Close()
		return fmt.Errorf("too many connections")
	}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		d, err := ParseDigest(strings.TrimPrefix(dc.Label(), labelPrefix))
		f := n.file(d)
		if err != nil || !strings.HasPrefix(dc.Label(), labelPrefix) || f == nil || f.skip(from) {
			n.endSession(s)
			return
		}
		n.watch(ctx, s, dc, f, from)
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.SDP}); err != nil {
		n.endSession(s)
		return fmt.Errorf("set remote description: %w", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		n.endSession(s)
		return fmt.Errorf("create answer: %w", err)
	}
	sdp, err := n.gather(ctx, pc, ans)
	if err != nil {
		n.endSession(s)
		return err
	}
	return n.client.Send(ctx, signaling.Message{
		Type:   signaling.TypeSignal,
		To:     from,
		Digest: digest,
		Signal: &signaling.Signal{Kind: signaling.SignalAnswer, Session: sig.Session, SDP: sdp},
	})
}
