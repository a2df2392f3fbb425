package swarm

import "math/rand/v2"

// maxDuplicates bounds how many peers are asked for one chunk at once in
// the endgame.
const maxDuplicates = 3

// picker chooses which chunk to request next: rarest first among the chunks
// nobody has been asked for, ties broken at random, and in the endgame (when
// every missing chunk is already requested) the least-requested chunk from a
// second or third peer, so that one slow peer cannot hold up the tail. Its
// state changes only through its methods.
type picker struct {
	have     Bitfield
	busy     Bitfield // received, being verified or written
	avail    []int    // connected peers that have each chunk
	inflight []int    // outstanding requests for each chunk
	rand     *rand.Rand
}

func newPicker(have Bitfield, r *rand.Rand) *picker {
	return &picker{
		have:     have,
		busy:     NewBitfield(have.Len()),
		avail:    make([]int, have.Len()),
		inflight: make([]int, have.Len()),
		rand:     r,
	}
}

// holds reports whether chunk i is stored; full whether every chunk is.
func (p *picker) holds(i int) bool { return p.have.Has(i) }
func (p *picker) full() bool       { return p.have.Full() }
func (p *picker) held() int        { return p.have.Count() }
func (p *picker) verifying() int   { return p.busy.Count() }

// wanted reports whether chunk i is still to be fetched.
func (p *picker) wanted(i int) bool { return !p.have.Has(i) && !p.busy.Has(i) }

// addPeer and removePeer keep availability counts in step with the
// connected peers' bitfields; peerHas and peerLost with their changes.
func (p *picker) addPeer(b Bitfield) {
	for i := range p.avail {
		if b.Has(i) {
			p.avail[i]++
		}
	}
}

func (p *picker) removePeer(b Bitfield) {
	for i := range p.avail {
		if b.Has(i) {
			p.avail[i]--
		}
	}
}

func (p *picker) peerHas(i int)  { p.avail[i]++ }
func (p *picker) peerLost(i int) { p.avail[i]-- }

// asked and unasked count a request for chunk i sent and answered,
// cancelled or lost.
func (p *picker) asked(i int)   { p.inflight[i]++ }
func (p *picker) unasked(i int) { p.inflight[i]-- }

// received marks chunk i as whole and being verified; stored or failed
// ends that.
func (p *picker) received(i int) { p.busy.Set(i) }
func (p *picker) failed(i int)   { p.busy.Clear(i) }
func (p *picker) stored(i int) {
	p.busy.Clear(i)
	p.have.Set(i)
}

// endgame reports whether every wanted chunk is already requested.
func (p *picker) endgame() bool {
	for i := range p.inflight {
		if p.inflight[i] == 0 && p.wanted(i) {
			return false
		}
	}
	return true
}

// pick returns the next chunk to request from a peer holding peerHave that
// already has the requests in asked. ok is false when there is nothing to
// ask that peer for.
func (p *picker) pick(peerHave Bitfield, asked map[int]*assembly, endgame bool) (best int, ok bool) {
	ties := 0
	bestKey := 0
	for i := range p.avail {
		if !peerHave.Has(i) || !p.wanted(i) {
			continue
		}
		if _, dup := asked[i]; dup {
			continue
		}
		var key int
		switch {
		case p.inflight[i] == 0:
			key = p.avail[i]
		case endgame && p.inflight[i] < maxDuplicates:
			key = 1<<20 + p.inflight[i]<<16 + p.avail[i]
		default:
			continue
		}
		switch {
		case !ok || key < bestKey:
			best, bestKey, ties, ok = i, key, 1, true
		case key == bestKey:
			ties++
			if p.rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best, ok
}

// missingAvailable reports whether some connected peer holds a wanted chunk.
func (p *picker) missingAvailable() bool {
	for i := range p.avail {
		if p.avail[i] > 0 && p.wanted(i) {
			return true
		}
	}
	return false
}
