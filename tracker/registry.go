package tracker

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// registry is the swarm table: who is connected and who holds what. One
// mutex guards it all; nothing under it blocks.
type registry struct {
	opts Options

	mu            sync.Mutex
	peers         map[string]*peer
	swarms        map[swarm.Hash]*swarmState
	manifestBytes int64
}

// swarmState is one file's swarm.
type swarmState struct {
	manifest json.RawMessage // canonical JSON, validated against the digest
	chunks   int
	members  map[string]*member // by peer ID
}

// member is what one peer holds of one file.
type member struct {
	have     int
	complete bool
}

func newRegistry(opts Options) *registry {
	return &registry{
		opts:   opts,
		peers:  make(map[string]*peer),
		swarms: make(map[swarm.Hash]*swarmState),
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

// removePeer unregisters p and takes it out of every swarm.
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
}

// peer returns the connected peer with that ID, or nil.
func (r *registry) peer(id string) *peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[id]
}

// announce records that p holds have chunks of d (all when complete). man and
// raw, the validated manifest and its canonical JSON, may be nil when the
// swarm exists. It returns the members to tell about p (nil unless p is new
// to the swarm or has just completed) and p's entry, or an error that
// changed nothing.
func (r *registry) announce(p *peer, d swarm.Hash, man *swarm.Manifest, raw []byte, have int, complete bool) ([]*peer, signaling.PeerInfo, *signaling.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	chunks := 0
	switch {
	case s != nil:
		chunks = s.chunks
	case man == nil:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeUnknownFile, "the tracker does not know %s: announce it with its manifest", d)
	case len(r.swarms) >= r.opts.MaxSwarms:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "the tracker holds %d swarms, its limit", len(r.swarms))
	case r.manifestBytes+int64(len(raw)) > r.opts.MaxManifestMemory:
		return nil, signaling.PeerInfo{}, errorf(signaling.CodeRateLimited, "the tracker's manifest memory is full")
	default:
		chunks = man.NumChunks()
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
		s = &swarmState{manifest: raw, chunks: chunks, members: make(map[string]*member)}
		r.swarms[d] = s
		r.manifestBytes += int64(len(raw))
	}
	old := s.members[p.id]
	s.members[p.id] = &member{have: have, complete: complete}
	p.swarms[d] = struct{}{}
	info := signaling.PeerInfo{ID: p.id, Have: have, Complete: complete}
	if old != nil && (old.complete || !complete) {
		return nil, info, nil
	}
	var notify []*peer
	for id, m := range s.members {
		if id != p.id && !m.complete {
			notify = append(notify, r.peers[id])
		}
	}
	rand.Shuffle(len(notify), func(i, j int) { notify[i], notify[j] = notify[j], notify[i] })
	return notify[:min(len(notify), r.opts.MaxNotify)], info, nil
}

// leave takes p out of d's swarm, if it is in it.
func (r *registry) leave(p *peer, d swarm.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leaveLocked(p, d)
}

func (r *registry) leaveLocked(p *peer, d swarm.Hash) {
	delete(p.swarms, d)
	s := r.swarms[d]
	if s == nil {
		return
	}
	delete(s.members, p.id)
	if len(s.members) == 0 {
		delete(r.swarms, d)
		r.manifestBytes -= int64(len(s.manifest))
	}
}

// query returns d's manifest and up to n of its members other than asker,
// picked by pick. ok is false when no peer holds d.
func (r *registry) query(d swarm.Hash, asker string, n int) (manifest json.RawMessage, peers []signaling.PeerInfo, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.swarms[d]
	if s == nil {
		return nil, nil, false
	}
	cands := make([]signaling.PeerInfo, 0, len(s.members))
	for id, m := range s.members {
		if id != asker {
			cands = append(cands, signaling.PeerInfo{ID: id, Have: m.have, Complete: m.complete})
		}
	}
	return s.manifest, pick(cands, s.chunks, n), true
}

// counts returns how many peers are connected and how many swarms exist.
func (r *registry) counts() (peers, swarms int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers), len(r.swarms)
}

// snapshot renders the whole table deterministically, for tests.
func (r *registry) snapshot() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for id, p := range r.peers {
		ds := make([]string, 0, len(p.swarms))
		for d := range p.swarms {
			ds = append(ds, d.String())
		}
		sort.Strings(ds)
		lines = append(lines, fmt.Sprintf("peer %s in %v", id, ds))
	}
	for d, s := range r.swarms {
		lines = append(lines, fmt.Sprintf("swarm %s chunks %d manifest %d bytes", d, s.chunks, len(s.manifest)))
		for id, m := range s.members {
			lines = append(lines, fmt.Sprintf("swarm %s member %s have %d complete %t", d, id, m.have, m.complete))
		}
	}
	sort.Strings(lines)
	lines = append(lines, fmt.Sprintf("manifest bytes %d", r.manifestBytes))
	return strings.Join(lines, "\n")
}
