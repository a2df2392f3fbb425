package tracker

import (
	"context"
	"encoding/json"
	"errors"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// What crosses the Bus, encoded as JSON. The nodes of a cluster run the
// same tabswarm.

// A relay carries a signal to its addressee's node as the frame the
// addressee gets (From, To and Digest set), so that the addressee's node
// checks it and passes the same bytes on. Its reply is empty when the
// signal was delivered, else the refusal, a signaling.Error.

// swarmRequest asks a node about one swarm: up to Peers of its holders,
// and the manifest when Manifest is set.
type swarmRequest struct {
	Manifest bool `json:"manifest,omitempty"`
	Peers    int  `json:"peers"`
}

// swarmReply answers a swarmRequest.
type swarmReply struct {
	Manifest json.RawMessage      `json:"manifest,omitempty"`
	Peers    []signaling.PeerInfo `json:"peers,omitempty"`
}

// noticeMessage tells nodes about a newcomer to a swarm.
type noticeMessage struct {
	Peer signaling.PeerInfo `json:"peer"`
}

// busNode serves a Tracker's side of the bus.
type busNode struct{ t *Tracker }

var _ BusNode = busNode{}

// ServeRelay checks the receiver's side of a signal from another node and
// delivers it.
func (n busNode) ServeRelay(req []byte) []byte {
	h, frame, err := parseRelay(req)
	if err != nil {
		return mustMarshal(errorf(signaling.CodeBadMessage, "%v", err))
	}
	q, e := n.t.reg.deliver(h.from, h.to, h.digest, &h.signal, len(frame))
	if e != nil {
		return mustMarshal(e)
	}
	q.relay(frame)
	return nil
}

// ServeSwarm answers a swarmRequest with this node's holders of d.
func (n busNode) ServeSwarm(d swarm.Hash, req []byte) ([]byte, bool) {
	var r swarmRequest
	if json.Unmarshal(req, &r) != nil {
		return nil, false
	}
	manifest, peers, _, e := n.t.reg.query(d, nil, min(max(r.Peers, 0), n.t.opts.MaxPeersPerReply))
	if e != nil || len(peers) == 0 && !r.Manifest {
		return nil, false
	}
	out := swarmReply{Peers: peers}
	if r.Manifest {
		out.Manifest = manifest
	}
	return mustMarshal(out), true
}

// ServeAll answers a stats request with this node's statistics.
func (n busNode) ServeAll([]byte) []byte {
	return mustMarshal(n.t.localStats())
}

// ServeNotice tells the members of d's swarm on this node about a newcomer
// on another node.
func (n busNode) ServeNotice(d swarm.Hash, msg []byte) {
	var r noticeMessage
	if json.Unmarshal(msg, &r) != nil {
		return
	}
	notice := signaling.Message{Type: signaling.TypePeers, Digest: d.String(), Peers: []signaling.PeerInfo{r.Peer}}
	for _, q := range n.t.reg.noticeTargets(d, r.Peer.ID) {
		q.send(notice)
	}
}

// clusterContext bounds a request to other nodes on behalf of ctx.
func (t *Tracker) clusterContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.opts.ClusterTimeout)
}

// find returns d's manifest and up to n of its holders on every node, as
// registry.query does for this node (asker, when not nil, joins the
// swarm). A swarm that only other nodes have is known here from their
// manifest, checked against d.
func (t *Tracker) find(ctx context.Context, d swarm.Hash, asker *peer, n int) (json.RawMessage, []signaling.PeerInfo, *signaling.Error) {
	manifest, peers, chunks, e := t.reg.query(d, asker, n)
	if !t.reg.clustered || e != nil && e.Code != signaling.CodeUnknownFile {
		return manifest, peers, e
	}
	ctx, cancel := t.clusterContext(ctx)
	defer cancel()
	replies, err := t.bus.AskSwarm(ctx, d, mustMarshal(swarmRequest{Manifest: manifest == nil, Peers: n}))
	if err != nil {
		t.log.Warn("tracker: asking other nodes for holders", "digest", d.String(), "err", err)
	}
	var remote []signaling.PeerInfo
	var c *content
	for _, b := range replies {
		var r swarmReply
		if json.Unmarshal(b, &r) != nil {
			continue
		}
		remote = append(remote, r.Peers...)
		if manifest == nil && c == nil && len(r.Manifest) > 0 {
			c, _ = parseContent(r.Manifest, d) // nil unless it hashes to d
		}
	}
	if manifest == nil {
		if c == nil {
			return nil, nil, e
		}
		manifest, chunks = c.raw, c.parts
		if asker != nil {
			if e := t.reg.join(asker, d, c); e != nil {
				return nil, nil, e
			}
		}
	}
	if len(remote) == 0 {
		return manifest, peers, nil
	}
	return manifest, pick(append(peers, remote...), chunks, n), nil
}

// remoteContent returns d's .p2t from another node, checked against d, or
// nil when no node has it.
func (t *Tracker) remoteContent(ctx context.Context, d swarm.Hash) *content {
	if !t.reg.clustered {
		return nil
	}
	ctx, cancel := t.clusterContext(ctx)
	defer cancel()
	replies, _ := t.bus.AskSwarm(ctx, d, mustMarshal(swarmRequest{Manifest: true}))
	for _, b := range replies {
		var r swarmReply
		if json.Unmarshal(b, &r) == nil && len(r.Manifest) > 0 {
			if c, err := parseContent(r.Manifest, d); err == nil {
				return c
			}
		}
	}
	return nil
}

// relayAcross relays m, a checked signal about d from p, to its addressee
// on node: this node checks the sender's side, that node the receiver's.
// A signal that wants a reply (id not 0) waits for that node's verdict.
// One that does not is sent without waiting, since only a refusal comes
// back: it reaches p later as an error with ID 0, and undoes what this
// node recorded. A NATS request and its reply would cross the nodes'
// routes twice per signal; the route traffic is most of a cross-node
// relay's cost.
func (t *Tracker) relayAcross(p *peer, node string, d swarm.Hash, m signaling.Message, id uint64) *signaling.Error {
	undo, e := t.reg.checkSend(p, m.To, d, m.Signal)
	if e != nil {
		return e
	}
	if id != 0 {
		e = t.relayTo(p.ctx, node, d, m)
	} else {
		to := m.To
		err := t.bus.Send(node, relayOf(d, m), func(reply []byte, err error) {
			if e := verdict(to, reply, err); e != nil {
				undo()
				t.fail(p, 0, e)
			}
		})
		e = verdict(to, nil, err)
	}
	if e != nil {
		undo()
	}
	return e
}

// relayTo has node deliver m and returns its verdict.
func (t *Tracker) relayTo(ctx context.Context, node string, d swarm.Hash, m signaling.Message) *signaling.Error {
	ctx, cancel := t.clusterContext(ctx)
	defer cancel()
	b, err := t.bus.Relay(ctx, node, relayOf(d, m))
	return verdict(m.To, b, err)
}

// relayOf encodes m, a checked signal about d, as a relay to its
// addressee's node.
func relayOf(d swarm.Hash, m signaling.Message) []byte {
	frame := mustMarshal(m)
	h := relayHead{from: m.From, to: m.To, digest: d, signal: signaling.Signal{Kind: m.Signal.Kind, Session: m.Signal.Session}}
	return appendRelay(make([]byte, 0, len(frame)+len(h.from)+len(h.to)+len(h.signal.Session)+64), h, frame)
}

// verdict turns what another node said about a relay to peer to (its
// reply b, or the bus's err) into nil when it was delivered, else the
// error for the sender.
func verdict(to string, b []byte, err error) *signaling.Error {
	switch {
	case errors.Is(err, ErrNoNode):
		return unknownPeer(to)
	case err != nil:
		return errorf(signaling.CodeUnknownPeer, "peer %q is on a node that did not answer: %v", to, err)
	case len(b) == 0:
		return nil // delivered
	}
	var e signaling.Error
	if err := json.Unmarshal(b, &e); err != nil || e.Code == "" {
		return errorf(signaling.CodeUnknownPeer, "peer %q is on a node that answered nonsense", to)
	}
	return &e
}
