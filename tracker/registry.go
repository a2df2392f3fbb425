package tracker

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// registry is the swarm table: who is connected, who holds what, and which
// relayed offers wait for an answer. One mutex guards it all; nothing under
// it blocks.
type registry struct {
	opts Options
	now  func() time.Time // time.Now; tests move it

	mu            sync.Mutex
	peers         map[string]*peer
	swarms        map[swarm.Hash]*swarmState
	manifestBytes int64
	manifestByIP  map[string]int64 // manifestBytes by the client address that brought each
	uploaded      int64            // bytes peers reported sending, summed over increases
	downloaded    int64            // bytes peers reported receiving, likewise
}

// swarmState is one file's swarm. It lives while at least one member has
// announced (holders > 0).
type swarmState struct {
	manifest json.RawMessage // canonical JSON, validated against the digest
	name     string          // from the manifest, for the dashboard
	size     int64
	chunks   int
	members  map[string]*member // by peer ID
	holders  int                // members that announced
	owner    *peer              // who brought the manifest; charged for it while the swarm lives
}

// member is what one peer holds of one file. A member that has only
// queried is interested: a leecher with nothing, never listed as a holder.
type member struct {
	p          *peer
	announced  bool
	have       int
	complete   bool
	uploaded   int64 // last reported counters, -1 before the first report
	downloaded int64
}

// offerKey names a relayed offer on its offerer: to whom, which session.
type offerKey struct{ to, session string }

// offer is a relayed offer waiting for its answer.
type offer struct {
	digest  swarm.Hash
	expires time.Time
}

func newRegistry(opts Options) *registry {
	return &registry{
		opts:   opts,
		now:    time.Now,
		peers:  make(map[string]*peer),
		swarms: make(map[swarm.Hash]*swarmState),

		manifestByIP: make(map[string]int64),
	}
}

// addPeer registers a connected peer under its ID.
func (r *registry) addPeer(p *peer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.peers[p.id]; taken {
		return false
	}
	r.peers[p.id] = p
	return true
}

// removePeer unregisters p, takes it out of every swarm and forgets its
// offers.
func (r *registry) removePeer(p *peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers[p.id] != p {
		return
	}
	delete(r.peers, p.id)
	for d := range p.swarms {
		r.leaveLocked(p, d)
	}
	clear(p.offers)
}

// peer returns the connected peer with that ID, or nil.
func (r *registry) peer(id string) *peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[id]
}

// announce records that p holds have parts of d (all when complete): chunks
// of a file, files of a collection. c, the validated .p2t, may be nil when
// the swarm exists. up and down are the reported byte counters (-1: none). It
// returns the members to tell about p (nil unless p is new to the swarm or
// has just completed) and p's entry, or an error that changed nothing.
func (r *registry) announce(p *peer, d swarm.Hash, c *content, have int, complete bool, up, down int64) ([]*peer, signaling.PeerInfo, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	chunks := 0
	switch {
	case s != nil:
		chunks = s.chunks
	case c == nil:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeUnknownFile, "the tracker does not know %s: announce it with its manifest", d)
	case len(r.swarms) >= r.opts.MaxSwarms:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "the tracker holds %d swarms, its limit", len(r.swarms))
	case p.manifestBytes+int64(len(c.raw)) > r.opts.MaxManifestMemoryPerPeer:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "your connection's share of the tracker's manifest memory (%d bytes) is used", r.opts.MaxManifestMemoryPerPeer)
	case r.manifestByIP[p.ip]+int64(len(c.raw)) > r.opts.MaxManifestMemoryPerIP:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "your address's share of the tracker's manifest memory (%d bytes) is used", r.opts.MaxManifestMemoryPerIP)
	case r.manifestBytes+int64(len(c.raw)) > r.opts.MaxManifestMemory:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "the tracker's manifest memory is full")
	default:
		chunks = c.parts
	}
	if have < 0 || have > chunks {
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeBadMessage, "have %d, want 0 to %d", have, chunks)
	}
	if complete {
		have = chunks
	}
	if _, in := p.swarms[d]; !in && len(p.swarms) >= r.opts.MaxSwarmsPerPeer {
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "a peer may be in at most %d swarms", r.opts.MaxSwarmsPerPeer)
	}

	if s == nil {
		s = &swarmState{manifest: c.raw, name: c.name, size: c.size, chunks: chunks, members: make(map[string]*member), owner: p}
		r.swarms[d] = s
		r.chargeManifest(s, 1)
	}
	old := s.members[p.id]
	m := &member{p: p, announced: true, have: have, complete: complete, uploaded: -1, downloaded: -1}
	if old != nil {
		m.uploaded, m.downloaded = old.uploaded, old.downloaded
	}
	r.uploaded += counterGrowth(&m.uploaded, up)
	r.downloaded += counterGrowth(&m.downloaded, down)
	if old == nil || !old.announced {
		s.holders++
	}
	s.members[p.id] = m
	p.swarms[d] = struct{}{}
	info := signaling.PeerInfo{ID: p.id, Have: have, Complete: complete}
	if old != nil && old.announced && (old.complete || !complete) {
		return nil, info, nil
	}
	var notify []*peer
	for id, m := range s.members {
		if id != p.id && !m.complete {
			notify = append(notify, m.p)
		}
	}
	rand.Shuffle(len(notify), func(i, j int) { notify[i], notify[j] = notify[j], notify[i] })
	return notify[:min(len(notify), r.opts.MaxNotify)], info, nil
}

// maxCounter bounds a reported byte counter (an exabyte), so that sums of
// them cannot overflow.
const maxCounter = 1 << 60

// counterGrowth takes a reported counter v (-1: not reported) into *last
// and returns how much it grew since the last report. The first report, and
// one smaller than the last, only set the base.
func counterGrowth(last *int64, v int64) int64 {
	if v < 0 {
		return 0
	}
	v = min(v, maxCounter)
	grew := int64(0)
	if *last >= 0 && v > *last {
		grew = v - *last
	}
	*last = v
	return grew
}

// leave takes p out of d's swarm, if it is in it.
// setName sets the name p said in its hello.
func (r *registry) setName(p *peer, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.name = name
}

func (r *registry) leave(p *peer, d swarm.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leaveLocked(p, d)
}

// leaveLocked takes p out of d's swarm. When no holder is left the swarm is
// forgotten, and with it the interest of members that only queried.
func (r *registry) leaveLocked(p *peer, d swarm.Hash) {
	delete(p.swarms, d)
	s := r.swarms[d]
	if s == nil {
		return
	}
	if m := s.members[p.id]; m != nil {
		delete(s.members, p.id)
		if m.announced {
			s.holders--
		}
	}
	if s.holders > 0 {
		return
	}
	for _, m := range s.members {
		delete(m.p.swarms, d)
	}
	delete(r.swarms, d)
	r.chargeManifest(s, -1)
}

// chargeManifest adds (sign 1) or takes back (-1) the bytes of s's manifest
// to the tracker's total and to its owner's connection and address.
func (r *registry) chargeManifest(s *swarmState, sign int64) {
	n := sign * int64(len(s.manifest))
	r.manifestBytes += n
	s.owner.manifestBytes += n
	if r.manifestByIP[s.owner.ip] += n; r.manifestByIP[s.owner.ip] <= 0 {
		delete(r.manifestByIP, s.owner.ip)
	}
}

// query returns d's manifest and up to n of its holders other than asker,
// picked by pick. When asker is not nil and not yet a member, it joins as an
// interested member; at its swarm cap that is an error and nothing changes.
// An unknown d is CodeUnknownFile.
func (r *registry) query(d swarm.Hash, asker *peer, n int) (json.RawMessage, []signaling.PeerInfo, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	if s == nil {
		return nil, nil, errorf(signaling.CodeUnknownFile, "no peer holds %s", d)
	}
	askerID := ""
	if asker != nil {
		askerID = asker.id
		if _, in := asker.swarms[d]; !in {
			if len(asker.swarms) >= r.opts.MaxSwarmsPerPeer {
				return nil, nil, errorf(signaling.CodeRateLimited, "a peer may be in at most %d swarms", r.opts.MaxSwarmsPerPeer)
			}
			s.members[asker.id] = &member{p: asker, uploaded: -1, downloaded: -1}
			asker.swarms[d] = struct{}{}
		}
	}
	cands := make([]signaling.PeerInfo, 0, s.holders)
	for id, m := range s.members {
		if id != askerID && m.announced {
			cands = append(cands, signaling.PeerInfo{ID: id, Have: m.have, Complete: m.complete})
		}
	}
	return s.manifest, pick(cands, s.chunks, n), nil
}

// relay checks that from may send sig about d to the peer to and returns
// that peer, updating the pending offers; an error changes nothing. The
// caller has checked the message's shape.
func (r *registry) relay(from *peer, to string, d swarm.Hash, sig *signaling.Signal) (*peer, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.peers[to]
	if q == nil {
		return nil, errorf(signaling.CodeUnknownPeer, "peer %q is not connected", to)
	}
	now := r.now()
	switch sig.Kind {
	case signaling.SignalAnswer:
		k := offerKey{to: from.id, session: sig.Session}
		o, ok := q.offers[k]
		if !ok || o.digest != d || !now.Before(o.expires) {
			return nil, errorf(signaling.CodeNoOffer, "peer %q has no open offer to you for session %q of %s", to, sig.Session, d)
		}
		delete(q.offers, k)
		return q, nil
	case signaling.SignalOffer, signaling.SignalClose:
		_, fromIn := from.swarms[d]
		_, toIn := q.swarms[d]
		if !fromIn || !toIn {
			return nil, errorf(signaling.CodeNotInSwarm, "you and peer %q do not share the swarm of %s: announce or query it first", to, d)
		}
	}
	k := offerKey{to: to, session: sig.Session}
	if sig.Kind == signaling.SignalClose {
		delete(from.offers, k)
		delete(q.offers, offerKey{to: from.id, session: sig.Session})
		return q, nil
	}
	if _, again := from.offers[k]; !again && len(from.offers) >= r.opts.MaxPendingOffers {
		for k, o := range from.offers {
			if !now.Before(o.expires) {
				delete(from.offers, k)
			}
		}
		if len(from.offers) >= r.opts.MaxPendingOffers {
			return nil, errorf(signaling.CodeRateLimited, "at most %d offers may wait for an answer", r.opts.MaxPendingOffers)
		}
	}
	from.offers[k] = offer{digest: d, expires: now.Add(r.opts.OfferTTL)}
	return q, nil
}

// counts returns how many peers are connected and how many swarms exist.
func (r *registry) counts() (peers, swarms int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers), len(r.swarms)
}

// snapshot renders the whole table deterministically, for tests. Pending
// offers are listed without their expiry; purging an expired one is not a
// change.
func (r *registry) snapshot() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	now := r.now()
	for id, p := range r.peers {
		ds := make([]string, 0, len(p.swarms))
		for d := range p.swarms {
			ds = append(ds, d.String())
		}
		sort.Strings(ds)
		lines = append(lines, fmt.Sprintf("peer %s in %v", id, ds))
		for k, o := range p.offers {
			if now.Before(o.expires) {
				lines = append(lines, fmt.Sprintf("peer %s offer to %s session %q for %s", id, k.to, k.session, o.digest))
			}
		}
	}
	for d, s := range r.swarms {
		lines = append(lines, fmt.Sprintf("swarm %s chunks %d manifest %d bytes holders %d", d, s.chunks, len(s.manifest), s.holders))
		for id, m := range s.members {
			lines = append(lines, fmt.Sprintf("swarm %s member %s announced %t have %d complete %t up %d down %d", d, id, m.announced, m.have, m.complete, m.uploaded, m.downloaded))
		}
	}
	sort.Strings(lines)
	lines = append(lines, fmt.Sprintf("manifest bytes %d, bytes up %d down %d", r.manifestBytes, r.uploaded, r.downloaded))
	return strings.Join(lines, "\n")
}
