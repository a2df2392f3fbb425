package tracker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
	opts      Options
	now       func() time.Time // time.Now; tests move it
	bus       Bus              // told which swarms have members here
	clustered bool             // other nodes may hold this node's swarms

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
	nameless bool               // announcers named it differently: its name is withheld
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

func newRegistry(opts Options, bus Bus, clustered bool) *registry {
	return &registry{
		opts:      opts,
		bus:       bus,
		clustered: clustered,
		now:       time.Now,
		peers:     make(map[string]*peer),
		swarms:    make(map[swarm.Hash]*swarmState),

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
// the swarm exists. up and down are the reported byte counters (-1: none).
// It returns p's entry, whether it is news to the swarm's other members (p
// is new to the swarm or has just completed) and the members of this node
// to tell, or an error that changed nothing.
func (r *registry) announce(p *peer, d swarm.Hash, c *content, have int, complete bool, up, down int64) (signaling.PeerInfo, bool, []*peer, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	chunks := 0
	switch {
	case s != nil:
		chunks = s.chunks
	case c == nil:
		return signaling.PeerInfo{}, false, nil, errorf(signaling.CodeUnknownFile, "the tracker does not know %s: announce it with its manifest", d)
	default:
		chunks = c.parts
	}
	if have < 0 || have > chunks {
		return signaling.PeerInfo{}, false, nil, errorf(signaling.CodeBadMessage, "have %d, want 0 to %d", have, chunks)
	}
	if complete {
		have = chunks
	}
	if e := r.canJoinLocked(p, d); e != nil {
		return signaling.PeerInfo{}, false, nil, e
	}
	if s == nil {
		var e *signaling.Error
		if s, e = r.newSwarmLocked(p, d, c); e != nil {
			return signaling.PeerInfo{}, false, nil, e
		}
	} else if c != nil && !s.nameless && !bytes.Equal(c.raw, s.manifest) {
		r.withholdNameLocked(s, c)
	}
	old := s.members[p.id]
	m := &member{p: p, announced: true, have: have, complete: complete, uploaded: -1, downloaded: -1}
	if old != nil {
		m.uploaded, m.downloaded = old.uploaded, old.downloaded
	}
	r.uploaded = addSaturating(r.uploaded, counterGrowth(&m.uploaded, up))
	r.downloaded = addSaturating(r.downloaded, counterGrowth(&m.downloaded, down))
	if old == nil || !old.announced {
		s.holders++
	}
	s.members[p.id] = m
	p.swarms[d] = struct{}{}
	info := signaling.PeerInfo{ID: p.id, Have: have, Complete: complete}
	if old != nil && old.announced && (old.complete || !complete) {
		return info, false, nil, nil
	}
	return info, true, r.noticeTargetsLocked(s, p.id), nil
}

// canJoinLocked checks that p may be in one more swarm, d, unless it is in
// it already.
func (r *registry) canJoinLocked(p *peer, d swarm.Hash) *signaling.Error {
	if _, in := p.swarms[d]; !in && len(p.swarms) >= r.opts.MaxSwarmsPerPeer {
		return errorf(signaling.CodeRateLimited, "a peer may be in at most %d swarms", r.opts.MaxSwarmsPerPeer)
	}
	return nil
}

// newSwarmLocked creates d's swarm from c, which p brought, within the caps
// on swarms and manifest memory (the tracker's, p's and p's address's
// share); p is charged for the manifest while the swarm lives.
func (r *registry) newSwarmLocked(p *peer, d swarm.Hash, c *content) (*swarmState, *signaling.Error) {
	switch {
	case len(r.swarms) >= r.opts.MaxSwarms:
		return nil, errorf(signaling.CodeRateLimited, "the tracker holds %d swarms, its limit", len(r.swarms))
	case p.manifestBytes+int64(len(c.raw)) > r.opts.MaxManifestMemoryPerPeer:
		return nil, errorf(signaling.CodeRateLimited, "your connection's share of the tracker's manifest memory (%d bytes) is used", r.opts.MaxManifestMemoryPerPeer)
	case r.manifestByIP[p.ip]+int64(len(c.raw)) > r.opts.MaxManifestMemoryPerIP:
		return nil, errorf(signaling.CodeRateLimited, "your address's share of the tracker's manifest memory (%d bytes) is used", r.opts.MaxManifestMemoryPerIP)
	case r.manifestBytes+int64(len(c.raw)) > r.opts.MaxManifestMemory:
		return nil, errorf(signaling.CodeRateLimited, "the tracker's manifest memory is full")
	}
	s := &swarmState{manifest: c.raw, name: c.name, size: c.size, chunks: c.parts, members: make(map[string]*member), owner: p}
	r.swarms[d] = s
	r.chargeManifest(s, 1)
	r.bus.Interest(d, true)
	return s, nil
}

// noticeTargetsLocked returns up to MaxNotify of s's members that are not
// complete, other than the newcomer except, in random order.
func (r *registry) noticeTargetsLocked(s *swarmState, except string) []*peer {
	var notify []*peer
	for id, m := range s.members {
		if id != except && !m.complete {
			notify = append(notify, m.p)
		}
	}
	rand.Shuffle(len(notify), func(i, j int) { notify[i], notify[j] = notify[j], notify[i] })
	return notify[:min(len(notify), r.opts.MaxNotify)]
}

// noticeTargets returns the members of d's swarm to tell about a newcomer
// on another node, as noticeTargetsLocked.
func (r *registry) noticeTargets(d swarm.Hash, newcomer string) []*peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	if s == nil {
		return nil
	}
	return r.noticeTargetsLocked(s, newcomer)
}

// maxCounter bounds a reported byte counter (an exabyte), so that sums of
// them cannot overflow.
const maxCounter = 1 << 60

// addSaturating returns a+b, both not negative, or math.MaxInt64 when the
// sum would overflow: the byte totals stop growing rather than turn
// negative.
func addSaturating(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

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
// forgotten, and with it the interest of members that only queried; in a
// cluster, where the holders may be on other nodes, only once no member is
// left.
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
	if s.holders > 0 || r.clustered && len(s.members) > 0 {
		return
	}
	for _, m := range s.members {
		delete(m.p.swarms, d)
	}
	delete(r.swarms, d)
	r.chargeManifest(s, -1)
	r.bus.Interest(d, false)
}

// withholdNameLocked serves s's manifest without a name from now on: c,
// announced for it, names the same content differently, so no announcer
// decides what everyone's copy is called. Downloaders then name the file
// by its digest, or by the .p2t they hold.
func (r *registry) withholdNameLocked(s *swarmState, c *content) {
	r.chargeManifest(s, -1)
	s.manifest, s.name, s.nameless = c.nameless(), "", true
	r.chargeManifest(s, 1)
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
// picked by pick, and the file's chunk count. When asker is not nil and not
// yet a member, it joins as an interested member; at its swarm cap that is
// an error and nothing changes. An unknown d is CodeUnknownFile.
func (r *registry) query(d swarm.Hash, asker *peer, n int) (json.RawMessage, []signaling.PeerInfo, int, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	if s == nil {
		return nil, nil, 0, errorf(signaling.CodeUnknownFile, "no peer holds %s", d)
	}
	askerID := ""
	if asker != nil {
		askerID = asker.id
		if e := r.interestLocked(asker, d, s); e != nil {
			return nil, nil, 0, e
		}
	}
	cands := make([]signaling.PeerInfo, 0, s.holders)
	for id, m := range s.members {
		if id != askerID && m.announced {
			cands = append(cands, signaling.PeerInfo{ID: id, Have: m.have, Complete: m.complete})
		}
	}
	return s.manifest, pick(cands, s.chunks, n), s.chunks, nil
}

// interestLocked makes p an interested member of d's swarm s unless it is
// a member already, within its swarm cap.
func (r *registry) interestLocked(p *peer, d swarm.Hash, s *swarmState) *signaling.Error {
	if _, in := p.swarms[d]; in {
		return nil
	}
	if e := r.canJoinLocked(p, d); e != nil {
		return e
	}
	s.members[p.id] = &member{p: p, uploaded: -1, downloaded: -1}
	p.swarms[d] = struct{}{}
	return nil
}

// join makes p an interested member of d's swarm, whose holders are on
// other nodes, creating the swarm from c, validated, when this node does
// not have it.
func (r *registry) join(p *peer, d swarm.Hash, c *content) *signaling.Error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers[p.id] != p {
		return nil // gone meanwhile
	}
	s := r.swarms[d]
	if s == nil {
		if e := r.canJoinLocked(p, d); e != nil {
			return e
		}
		var e *signaling.Error
		if s, e = r.newSwarmLocked(p, d, c); e != nil {
			return e
		}
	}
	return r.interestLocked(p, d, s)
}

// manifest returns d's manifest, or nil when this node has no such swarm.
func (r *registry) manifest(d swarm.Hash) json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.swarms[d]; s != nil {
		return s.manifest
	}
	return nil
}

// relay checks that from may send sig about d, in a frame of size bytes, to
// its peer to and returns that peer, with room reserved in its queue
// (reserveRelay), updating the pending offers; an error changes nothing.
// The caller has checked the message's shape. It is checkSend, deliver and
// sent in one critical section.
func (r *registry) relay(from *peer, to string, d swarm.Hash, sig *signaling.Signal, size int) (*peer, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers[to] == nil {
		return nil, unknownPeer(to)
	}
	if e := r.checkFromLocked(from, to, d, sig); e != nil {
		return nil, e
	}
	if e := r.checkOffersLocked(from, to, sig); e != nil {
		return nil, e
	}
	q, e := r.deliverLocked(from.id, to, d, sig, size)
	if e != nil {
		return nil, e
	}
	r.sentLocked(from, to, d, sig)
	return q, nil
}

// checkSend checks the sender's side of a relay to a peer on another node
// (from is in d's swarm, and within its cap of waiting offers) and records
// it at once, as relay would: the answer to an offer may come back before
// the other node's verdict does. When that node refuses, undo puts back
// what was recorded, so that the error changes nothing; a refusal that
// comes after from's offer to to for that session changed again leaves
// the newer state alone.
func (r *registry) checkSend(from *peer, to string, d swarm.Hash, sig *signaling.Signal) (undo func(), e *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.checkFromLocked(from, to, d, sig); e != nil {
		return nil, e
	}
	if e := r.checkOffersLocked(from, to, sig); e != nil {
		return nil, e
	}
	k := offerKey{to: to, session: sig.Session}
	prev, had := from.offers[k]
	r.sentLocked(from, to, d, sig)
	written, wrote := from.offers[k]
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if now, is := from.offers[k]; is != wrote || now != written {
			return // changed since
		}
		if had {
			from.offers[k] = prev
		} else {
			delete(from.offers, k)
		}
	}, nil
}

// deliver checks the receiver's side of a relay from a peer on another
// node and returns the receiving peer: it is connected, an answer answers
// its offer (which ends), an offer or close finds it in d's swarm (a close
// ends its offer to from), and its queue has room for a relayed frame of
// size bytes, which is reserved (see peer.reserveRelay). An error changes
// nothing.
func (r *registry) deliver(from, to string, d swarm.Hash, sig *signaling.Signal, size int) (*peer, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deliverLocked(from, to, d, sig, size)
}

func unknownPeer(id string) *signaling.Error {
	return errorf(signaling.CodeUnknownPeer, "peer %q is not connected", id)
}

func notInSwarm(to string, d swarm.Hash) *signaling.Error {
	return errorf(signaling.CodeNotInSwarm, "you and peer %q do not share the swarm of %s: announce or query it first", to, d)
}

func (r *registry) checkFromLocked(from *peer, to string, d swarm.Hash, sig *signaling.Signal) *signaling.Error {
	if sig.Kind == signaling.SignalAnswer {
		return nil
	}
	if _, in := from.swarms[d]; !in {
		return notInSwarm(to, d)
	}
	return nil
}

func (r *registry) deliverLocked(from, to string, d swarm.Hash, sig *signaling.Signal, size int) (*peer, *signaling.Error) {
	q := r.peers[to]
	if q == nil {
		return nil, unknownPeer(to)
	}
	k := offerKey{to: from, session: sig.Session}
	if sig.Kind == signaling.SignalAnswer {
		o, ok := q.offers[k]
		if !ok || o.digest != d || !r.now().Before(o.expires) {
			return nil, errorf(signaling.CodeNoOffer, "peer %q has no open offer to you for session %q of %s", to, sig.Session, d)
		}
	} else if _, in := q.swarms[d]; !in {
		return nil, notInSwarm(to, d)
	}
	if !q.reserveRelay(size) {
		return nil, errorf(signaling.CodeRateLimited, "peer %q has too many signals waiting to be read; try again later", to)
	}
	if sig.Kind != signaling.SignalOffer {
		delete(q.offers, k)
	}
	return q, nil
}

// checkOffersLocked checks that an offer from from to to finds room among
// from's waiting offers, dropping expired ones to make it.
func (r *registry) checkOffersLocked(from *peer, to string, sig *signaling.Signal) *signaling.Error {
	if sig.Kind != signaling.SignalOffer {
		return nil
	}
	if _, again := from.offers[offerKey{to: to, session: sig.Session}]; again || len(from.offers) < r.opts.MaxPendingOffers {
		return nil
	}
	now := r.now()
	for k, o := range from.offers {
		if !now.Before(o.expires) {
			delete(from.offers, k)
		}
	}
	if len(from.offers) >= r.opts.MaxPendingOffers {
		return errorf(signaling.CodeRateLimited, "at most %d offers may wait for an answer", r.opts.MaxPendingOffers)
	}
	return nil
}

func (r *registry) sentLocked(from *peer, to string, d swarm.Hash, sig *signaling.Signal) {
	k := offerKey{to: to, session: sig.Session}
	switch sig.Kind {
	case signaling.SignalOffer:
		from.offers[k] = offer{digest: d, expires: r.now().Add(r.opts.OfferTTL)}
	case signaling.SignalClose:
		delete(from.offers, k)
	}
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
