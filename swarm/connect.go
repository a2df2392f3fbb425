package swarm

import (
	"context"
	"errors"
)

// handler is the Node's side of its Connector.
type handler struct{ n *Node }

var _ Handler = handler{}

// Connected announces every file again after a (re)connection.
func (h handler) Connected(ctx context.Context) {
	h.n.changes.notify() // the peer ID is new
	h.n.mu.Lock()
	files := h.n.all()
	h.n.mu.Unlock()
	for _, f := range files {
		h.n.announce(ctx, f, true)
	}
	h.n.announceCollections(ctx)
}

// Found dials the peers the tracker names for file d.
func (h handler) Found(d Hash, peers []string) { h.n.connectAll(d, peers) }

// Accept takes a connection for a file the node holds, from a peer it is
// not connected to and has not banned or evicted. MaxPeers bounds the
// connections the node opens, not those it takes: a seed serves as many
// as the connector's incoming cap allows.
func (h handler) Accept(d Hash, peer string) bool {
	f := h.n.file(d)
	return f != nil && !f.skip(peer)
}

// Incoming hands a connection a remote peer opened to its file.
func (h handler) Incoming(c Conn) {
	f := h.n.file(c.Digest)
	if f == nil {
		c.Transport.Close()
		return
	}
	f.attach(h.n.ctx, newPeerConn(c))
}

// connectAll opens connections for file d to the given peers, up to the
// per-file bound, unless d is complete.
func (n *Node) connectAll(d Hash, peers []string) {
	f := n.file(d)
	if f == nil || f.stats.Load().State == StateSeeding {
		return
	}
	self := n.conn.PeerID()
	room := n.opts.MaxPeers - f.peerCount() - int(f.dialing.Load())
	for _, p := range peers {
		if room <= 0 {
			return
		}
		if p == self || f.skip(p) || !f.startDial(p) {
			continue
		}
		room--
		if !n.spawn(func() { n.dial(f, p) }) {
			f.endDial(p)
			return
		}
	}
}

// spawn runs fn in a goroutine that Run waits for, unless Run is ending.
func (n *Node) spawn(fn func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Go(fn)
	return true
}

// dial connects to peer for f and hands the connection to f. Until it is
// open or has failed the file is not stalled: a peer is on its way. The
// dial ends once the file's loop has taken the connection, not when it is
// handed over: a query answered in between must not dial peer again.
func (n *Node) dial(f *file, peer string) {
	ctx := n.ctx
	c, err := n.conn.Dial(ctx, f.m.Digest, peer)
	if err != nil {
		f.endDial(peer)
		if !errors.Is(err, context.Canceled) {
			n.log.Debug("dial", "peer", peer, "err", err)
		}
		return
	}
	f.attach(ctx, newPeerConn(c))
}
