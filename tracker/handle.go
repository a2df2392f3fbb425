package tracker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// handle decodes one frame from p and acts on it. A request with an ID gets
// exactly one reply with that ID; an error is always reported, with ID 0
// when the request had none. A message that gets an error changes nothing.
func (t *Tracker) handle(p *peer, data []byte) {
	defer func() {
		if v := recover(); v != nil { // a bug; drop the peer, keep the tracker
			p.log().Error("tracker: panic handling a message", "panic", v, "stack", string(debug.Stack()))
			p.cancel(fmt.Errorf("tracker: panic: %v", v))
		}
	}()
	t.stats.meter.add(time.Now())
	if !p.limiter.Allow() {
		t.metrics.message("")
		t.fail(p, salvageID(data), errorf(signaling.CodeRateLimited, "too many messages"))
		return
	}
	m, err := decodeMessage(data)
	if err != nil {
		t.metrics.message("")
		t.fail(p, salvageID(data), errorf(signaling.CodeBadMessage, "%v", err))
		return
	}
	t.metrics.message(m.Type)
	var e *signaling.Error
	switch m.Type {
	case signaling.TypeAnnounce:
		e = t.announce(p, m)
	case signaling.TypeLeave:
		e = t.leave(p, m)
	case signaling.TypeQuery:
		e = t.query(p, m)
	case signaling.TypeSignal:
		e = t.signal(p, m)
	case signaling.TypeHello:
		e = t.hello(p, m)
	default:
		e = errorf(signaling.CodeUnknownType, "the tracker takes hello, announce, leave, query and signal, not %q", m.Type)
	}
	if e != nil {
		t.fail(p, m.ID, e)
	}
}

// fail reports e to p in reply to id and counts it. An error for going over
// a cap is a strike; past MaxStrikes a minute the error is the connection's
// last message and it closes with 1008 (policy violation).
func (t *Tracker) fail(p *peer, id uint64, e *signaling.Error) {
	t.metrics.errors.WithLabelValues(errorLabel(e.Code)).Inc()
	if (e.Code == signaling.CodeRateLimited || e.Code == signaling.CodeTooLarge) && !p.strikes.Allow() {
		t.metrics.dropped.WithLabelValues(droppedCaps).Inc()
		e = errorf(e.Code, "%s; over the tracker's caps too often, closing", e.Message)
		p.finish(mustMarshal(signaling.Message{Type: signaling.TypeError, ID: id, Error: e}), websocket.StatusPolicyViolation, "over the caps too often")
		return
	}
	p.fail(id, e)
}

// decodeMessage parses exactly one JSON Message, rejecting unknown fields
// and trailing data.
func decodeMessage(data []byte) (signaling.Message, error) {
	var m signaling.Message
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("not a message: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return m, errors.New("not a message: data after the JSON object")
	}
	return m, nil
}

// salvageID returns the ID of a message that failed to decode, when its
// "id" field is readable, so that the error reaches the right request.
func salvageID(data []byte) uint64 {
	var v struct {
		ID uint64 `json:"id"`
	}
	if json.Unmarshal(data, &v) != nil {
		return 0
	}
	return v.ID
}

func (t *Tracker) announce(p *peer, m signaling.Message) *signaling.Error {
	d, err := swarm.ParseDigest(m.Digest)
	if err != nil {
		return errorf(signaling.CodeBadDigest, "%v", err)
	}
	var c *content
	if len(m.Manifest) > 0 && string(m.Manifest) != "null" {
		if c, err = parseContent(m.Manifest, d); err != nil {
			return errorf(signaling.CodeBadManifest, "%v", err)
		}
	}
	if m.Uploaded < 0 || m.Downloaded < 0 {
		return errorf(signaling.CodeBadMessage, "uploaded and downloaded count bytes; they cannot be negative")
	}
	info, news, notify, e := t.reg.announce(p, d, c, m.Have, m.Complete, m.Uploaded, m.Downloaded)
	if e != nil && e.Code == signaling.CodeUnknownFile && c == nil {
		if c = t.remoteContent(p.ctx, d); c != nil { // another node has it
			info, news, notify, e = t.reg.announce(p, d, c, m.Have, m.Complete, m.Uploaded, m.Downloaded)
		}
	}
	if e != nil {
		return e
	}
	notice := signaling.Message{Type: signaling.TypePeers, Digest: d.String(), Peers: []signaling.PeerInfo{info}}
	for _, q := range notify {
		q.send(notice)
	}
	if news {
		t.bus.Notify(d, mustMarshal(noticeMessage{Peer: info}))
	}
	// After the notices: once the announcer has its ok, they are queued.
	p.reply(m.ID, signaling.Message{Type: signaling.TypeOK})
	return nil
}

// hello sets p's name, cleaned; a name CleanName refuses changes nothing.
func (t *Tracker) hello(p *peer, m signaling.Message) *signaling.Error {
	name, err := signaling.CleanName(m.Name)
	if err != nil {
		return errorf(signaling.CodeBadMessage, "%v", err)
	}
	t.reg.setName(p, name)
	p.reply(m.ID, signaling.Message{Type: signaling.TypeOK})
	return nil
}

func (t *Tracker) leave(p *peer, m signaling.Message) *signaling.Error {
	d, err := swarm.ParseDigest(m.Digest)
	if err != nil {
		return errorf(signaling.CodeBadDigest, "%v", err)
	}
	t.reg.leave(p, d)
	p.reply(m.ID, signaling.Message{Type: signaling.TypeOK})
	return nil
}

func (t *Tracker) query(p *peer, m signaling.Message) *signaling.Error {
	d, err := swarm.ParseDigest(m.Digest)
	if err != nil {
		return errorf(signaling.CodeBadDigest, "%v", err)
	}
	manifest, peers, e := t.find(p.ctx, d, p, t.opts.MaxPeersPerReply)
	if e != nil {
		return e
	}
	p.reply(m.ID, signaling.Message{Type: signaling.TypePeers, Digest: d.String(), Manifest: manifest, Peers: peers})
	return nil
}

// signal relays m to its addressee with From set and ID and PeerID cleared,
// once the registry agrees (see signaling.TypeSignal for the rules). It
// reads the SDP not at all.
func (t *Tracker) signal(p *peer, m signaling.Message) *signaling.Error {
	switch {
	case m.To == "":
		return errorf(signaling.CodeBadMessage, "a signal needs a To")
	case m.Signal == nil || m.Signal.Kind == "":
		return errorf(signaling.CodeBadMessage, "a signal needs a signal payload with a kind")
	case m.To == p.id:
		return errorf(signaling.CodeBadMessage, "a peer cannot signal itself")
	case m.Signal.Session == "" || len(m.Signal.Session) > signaling.MaxSessionLen:
		return errorf(signaling.CodeBadMessage, "a signal needs a session of 1 to %d bytes", signaling.MaxSessionLen)
	case len(m.Signal.SDP) > signaling.MaxSDPBytes:
		return errorf(signaling.CodeTooLarge, "an SDP may hold at most %d bytes", signaling.MaxSDPBytes)
	}
	switch m.Signal.Kind {
	case signaling.SignalOffer, signaling.SignalAnswer, signaling.SignalClose:
	default:
		return errorf(signaling.CodeBadMessage, "signal kind %q: want offer, answer or close", m.Signal.Kind)
	}
	d, err := swarm.ParseDigest(m.Digest)
	if err != nil {
		return errorf(signaling.CodeBadDigest, "a signal names the swarm it is for: %v", err)
	}
	id := m.ID
	m.ID, m.From, m.PeerID, m.Digest = 0, p.id, "", d.String()
	if node := peerNode(m.To); node != t.node && node != "" && t.reg.clustered {
		if e := t.relayAcross(p, node, d, m, id); e != nil {
			return e
		}
	} else {
		out := mustMarshal(m)
		q, e := t.reg.relay(p, m.To, d, m.Signal, len(out))
		if e != nil {
			return e
		}
		q.relay(out)
	}
	t.metrics.byKind[m.Signal.Kind].Inc()
	p.reply(id, signaling.Message{Type: signaling.TypeOK})
	return nil
}

// errorf returns a typed error for a peer.
func errorf(code signaling.ErrorCode, format string, args ...any) *signaling.Error {
	return &signaling.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// mustMarshal encodes a value that always encodes.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
