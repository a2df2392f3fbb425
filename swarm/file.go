package swarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// State is where a file stands in this peer.
type State string

// The states a file goes through. They are also the page's data-state values.
const (
	StatePreparing   State = "preparing"   // being read and hashed
	StateDownloading State = "downloading" // chunks missing, peers to fetch them from
	StateSeeding     State = "seeding"     // complete and shared
	StateStalled     State = "stalled"     // chunks missing and no connected peer has them
	StateError       State = "error"       // stopped; Error says why
)

// maxBusy bounds the chunks received and waiting to be verified and
// stored.
const maxBusy = 8

// Pipeline bounds, in chunks requested from one peer at a time. The depth
// follows the peer's measured rate so that about pipelineSeconds of data is
// always in flight.
const (
	minPipeline     = 2
	maxPipeline     = 32
	pipelineSeconds = 0.5
	tickInterval    = 250 * time.Millisecond
)

type eventKind int

const (
	evAttach    eventKind = iota // a new connection
	evFrame                      // a frame from a connection
	evAssembled                  // an Assembler's chunk, or its news of blocks taken
	evGone                       // a connection ended
	evChecked                    // a received chunk was verified and stored, or not
	evCall                       // run fn on the loop (tests read the loop's state so)
)

type event struct {
	kind eventKind
	c    *peerConn
	f    frame
	got  Received // evAssembled
	idx  int
	err  error
	fn   func()
}

// file runs one file's part of the swarm: it serves the chunks it holds to
// every connected peer and fetches the ones it misses. One goroutine, run,
// owns its state; everything else reaches it through events.
type file struct {
	m        *Manifest
	store    Chunks
	recent   *recentChunks // the node's chunks stored last, or nil
	log      *slog.Logger
	hash     func(context.Context, []byte) (Hash, error)
	onChange func()    // called when a snapshot changes; nil: nobody listens
	maxPeers int       // the node's bound on connections; 0: none
	ann      announcer // orders its announces and its leave (Node.Remove)
	// liarGrace is how long the file stays stalled with a liar banned
	// before it fails with ErrLyingPeer.
	liarGrace time.Duration

	// now and ticks are the loop's clock; tests set them before run.
	now   func() time.Time
	ticks <-chan time.Time

	events  chan event
	changed chan struct{} // pinged when a chunk is added or the state changes
	wg      sync.WaitGroup
	stopped chan struct{} // closed when run has returned and every goroutine it started has ended

	// loop
	conns     map[string]*peerConn
	pick      *picker
	source    []int // per chunk: 0 missing, 1 local, k+2 sourceIDs[k]
	sourceIDs []string
	sourceIdx map[string]int
	totals    map[string]*PeerStats
	accepted  map[string]int64 // per peer, the blocks taken over its closed connections
	state     State
	errMsg    string
	lastTick  time.Time
	liedAt    time.Time // when the file stalled with a liar banned; zero while it is not

	mu      sync.Mutex // guards the fields below, read by the node
	banned  map[string]string
	evicted map[string]time.Time // peers that delivered nothing, until when they are skipped
	peers   map[string]bool
	dials   map[string]bool

	stats   atomic.Pointer[FileStats]
	dialing atomic.Int32       // connections being set up; the file is not stalled while > 0
	cancel  context.CancelFunc // set by the node; ends run

	doneOnce sync.Once
	done     chan struct{} // closed when the file is complete or has failed
	err      error         // why it failed, set before done is closed
}

func newFile(m *Manifest, store Chunks, have Bitfield, log *slog.Logger) *file {
	f := &file{
		m:         m,
		store:     store,
		log:       log.With("file", m.Digest.String()[:12]),
		now:       time.Now,
		events:    make(chan event, 64),
		changed:   make(chan struct{}, 1),
		stopped:   make(chan struct{}),
		conns:     make(map[string]*peerConn),
		pick:      newPicker(have, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))),
		source:    make([]int, m.NumChunks()),
		sourceIdx: make(map[string]int),
		totals:    make(map[string]*PeerStats),
		accepted:  make(map[string]int64),
		banned:    make(map[string]string),
		evicted:   make(map[string]time.Time),
		peers:     make(map[string]bool),
		dials:     make(map[string]bool),
		state:     StateDownloading,
		liarGrace: defaultLiarGrace,
		hash:      func(_ context.Context, b []byte) (Hash, error) { return HashChunk(b), nil },
		done:      make(chan struct{}),
	}
	for i := range f.source {
		if have.Has(i) {
			f.source[i] = 1
		}
	}
	if have.Full() {
		f.state = StateSeeding
		f.finish(nil)
	}
	f.publish()
	return f
}

func (f *file) complete() bool { return f.pick.full() }

// finish records the file's outcome once: nil when complete.
func (f *file) finish(err error) {
	f.doneOnce.Do(func() {
		f.err = err
		close(f.done)
	})
}

// idle waits until run has returned and its goroutines have ended.
func (f *file) idle(ctx context.Context) {
	select {
	case <-f.stopped:
	case <-ctx.Done():
	}
}

// attach hands a new connection to the loop.
func (f *file) attach(ctx context.Context, c *peerConn) {
	select {
	case f.events <- event{kind: evAttach, c: c}:
	case <-ctx.Done():
		c.close()
		if c.ours() {
			f.endDial(c.id)
		}
	}
}

// skip reports whether the node should not connect to peer id: already
// connected, banned for lying, or lately evicted for delivering nothing.
func (f *file) skip(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peers[id] || f.banned[id] != "" || f.now().Before(f.evicted[id])
}

func (f *file) peerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.peers)
}

// startDial records a connection to peer being set up, and reports false
// if one already is.
func (f *file) startDial(peer string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dials[peer] {
		return false
	}
	f.dials[peer] = true
	f.dialing.Add(1)
	return true
}

func (f *file) endDial(peer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dials[peer] {
		delete(f.dials, peer)
		f.dialing.Add(-1)
	}
}

func (f *file) ping() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// run is the file's loop. It returns when ctx ends, closing every
// connection and waiting for the goroutines it started.
func (f *file) run(ctx context.Context) {
	defer close(f.stopped)
	defer f.wg.Wait()
	if f.ticks == nil {
		tick := time.NewTicker(tickInterval)
		defer tick.Stop()
		f.ticks = tick.C
	}
	f.lastTick = f.now()
	defer func() {
		for _, c := range f.conns {
			c.close()
		}
	}()
	for {
		select {
		case ev := <-f.events:
			if f.handle(ctx, ev) {
				f.schedule()
			}
		case now := <-f.ticks:
			f.tick(now)
			f.schedule()
		case <-ctx.Done():
			return
		}
	}
}

// handle applies one event and reports whether requests may need to be
// (re)scheduled.
func (f *file) handle(ctx context.Context, ev event) bool {
	c := ev.c
	switch ev.kind {
	case evAttach:
		if c.ours() {
			defer f.endDial(c.id) // the dial ends once its connection is taken
		}
		return f.attachConn(ctx, c)
	case evGone:
		f.drop(c, ev.err)
		return true
	case evChecked:
		return f.checked(c, ev.idx, ev.err)
	case evCall:
		ev.fn()
		return false
	}
	if f.conns[c.id] != c {
		return false // a frame from a connection already dropped
	}
	asked := len(c.asked)
	var err error
	if ev.kind == evAssembled {
		err = f.assembled(ctx, c, ev.got)
	} else {
		err = f.frame(ctx, c, ev.f)
	}
	if err != nil {
		f.drop(c, err)
		return true
	}
	// Most pieces are one block of a chunk still arriving: only the one
	// that completes a chunk frees a pipeline slot.
	return (ev.kind == evFrame && ev.f.Kind != kindPiece) || len(c.asked) < asked
}

func (f *file) attachConn(ctx context.Context, c *peerConn) bool {
	if f.skipAttach(c) {
		c.close()
		return false
	}
	if old := f.conns[c.id]; old != nil {
		// Both ends must keep the same one of two connections between
		// them, whatever order each attaches them in, or each waits for
		// a hello on the one the other closed.
		if !c.outranks(old) {
			c.close()
			return false
		}
		f.drop(old, errors.New("replaced by another connection to the same peer"))
	}
	f.conns[c.id] = c
	c.now = f.now
	c.since, c.progress = f.now(), f.now()
	f.mu.Lock()
	f.peers[c.id] = true
	f.mu.Unlock()
	if f.totals[c.id] == nil {
		f.totals[c.id] = &PeerStats{ID: c.id}
	}
	if c.ours() {
		f.greet(c)
	}
	if a, ok := c.t.(Assembler); ok {
		if _, ok := f.store.(BodyWriter); ok {
			c.asm = a
		}
	}
	if s, ok := c.t.(ChunkSender); ok {
		if _, ok := f.store.(BodyReader); ok {
			c.uploader = s
		}
	}
	f.wg.Go(func() { f.readLoop(ctx, c) })
	f.wg.Go(func() {
		if err := c.writeLoop(ctx, &f.wg, f.upload(c)); err != nil {
			c.close()
		}
	})
	f.log.Debug("peer connected", "peer", c.id)
	return false
}

// greet queues our hello on c. The peer that dialled speaks first and the
// other answers its hello: Chromium can lose a message that reaches the
// dialling end of a data channel while that end is still opening it (1
// connection in 20 to 40 here, each then idle until the 10 s hello
// timeout), and the dialler's hello proves its end is open.
func (f *file) greet(c *peerConn) {
	c.greeted = true
	c.out.control(appendHello(nil, f.pick.have))
}

// skipAttach reports whether a new connection must be refused: its peer
// is banned or evicted.
func (f *file) skipAttach(c *peerConn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.banned[c.id] != "" || f.now().Before(f.evicted[c.id])
}

func (f *file) readLoop(ctx context.Context, c *peerConn) {
	for {
		ev, err := c.next(ctx)
		if err == nil {
			select {
			case f.events <- ev:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case f.events <- event{kind: evGone, c: c, err: err}:
		case <-ctx.Done():
		}
		return
	}
}

// drop forgets c, returning its outstanding requests to the pool.
func (f *file) drop(c *peerConn, err error) {
	if f.conns[c.id] == c {
		delete(f.conns, c.id)
		f.mu.Lock()
		delete(f.peers, c.id)
		f.mu.Unlock()
		if c.hello {
			f.pick.removePeer(c.have)
		}
		for i := range c.asked {
			f.unask(c, i)
		}
		f.tally(c)
		f.accepted[c.id] += c.accepted
		c.accepted = 0
		f.log.Debug("peer disconnected", "peer", c.id, "err", err)
	}
	c.close()
}

// schedule fills every peer's request pipeline, the peers that delivered
// the most first, so they get the rarest chunks.
func (f *file) schedule() {
	if f.state == StateError || f.complete() {
		return
	}
	// Chunks received but not yet verified and stored hold a whole chunk
	// in memory each; past the bound, storage is the bottleneck and asking
	// for more would only pile them up.
	if f.pick.verifying() >= maxBusy {
		return
	}
	conns := make([]*peerConn, 0, len(f.conns))
	for _, c := range f.conns {
		if c.hello {
			conns = append(conns, c)
		}
	}
	sort.Slice(conns, func(i, j int) bool { return f.delivered(conns[i]) > f.delivered(conns[j]) })
	endgame := f.pick.endgame()
	now := f.now()
	for _, c := range conns {
		for len(c.asked) < c.depth {
			i, ok := f.pick.pick(c.have, c.asked, endgame)
			if !ok {
				break
			}
			if len(c.asked) == 0 {
				c.progress = now // the silence clock starts with the first request
			}
			a := &assembly{stale: c.cancelled[i]}
			c.asked[i] = a
			if c.asm != nil {
				c.asm.Expect(i, f.m.ChunkLen(i), a.stale)
			}
			delete(c.cancelled, i)
			f.pick.asked(i)
			c.out.control(appendIndex(nil, kindRequest, i))
		}
	}
}

// delivered is the payload of the blocks c's peer sent that this file
// asked for and took, over this connection and the earlier ones: junk
// does not count.
func (f *file) delivered(c *peerConn) int64 { return c.accepted + f.accepted[c.id] }

// tick measures rates, sizes pipelines, evicts silent peers, and works out
// the state.
func (f *file) tick(now time.Time) {
	dt := now.Sub(f.lastTick).Seconds()
	f.lastTick = now
	if dt <= 0 {
		return
	}
	for _, c := range f.conns {
		in, out := c.bytesIn.Load(), c.bytesOut.Load()
		c.rateIn = 0.6*c.rateIn + 0.4*float64(in-c.lastIn)/dt
		c.rateOut = 0.6*c.rateOut + 0.4*float64(out-c.lastOut)/dt
		if c.rateIn < 1 {
			c.rateIn = 0 // a rate decays for ever; below a byte a second it is none
		}
		if c.rateOut < 1 {
			c.rateOut = 0
		}
		c.lastIn, c.lastOut = in, out
		want := int(c.rateIn*pipelineSeconds/float64(f.m.ChunkSize)) + 1
		c.depth = max(minPipeline, min(maxPipeline, want))
	}
	f.expire(now)
	if f.state != StateError && !f.complete() {
		// A peer that has not said hello yet is still on its way, as a
		// dial is: it may hold what the file lacks.
		pending := false
		for _, c := range f.conns {
			pending = pending || len(c.asked) > 0 || !c.hello
		}
		old := f.state
		if pending || f.pick.verifying() > 0 || f.pick.missingAvailable() || f.dialing.Load() > 0 {
			f.state = StateDownloading
		} else {
			f.state = StateStalled
		}
		f.giveUpOnLiars(now)
		if old != f.state {
			f.ping()
		}
	}
	f.publish()
}

// defaultLiarGrace is Options.LiarGrace's zero value.
const defaultLiarGrace = time.Minute

// giveUpOnLiars fails a download that has stalled for liarGrace with a
// peer banned for lying: the peers that had its missing chunks sent
// corrupt data and no honest one came. A chunk stored from an honest peer
// ends the wait; the next stall waits its own grace.
func (f *file) giveUpOnLiars(now time.Time) {
	if f.state != StateStalled || len(f.banned) == 0 {
		f.liedAt = time.Time{}
		return
	}
	if f.liedAt.IsZero() {
		f.liedAt = now
	}
	if now.Sub(f.liedAt) < f.liarGrace {
		return
	}
	err := fmt.Errorf("%w (%d banned), and no other peer came within %v", ErrLyingPeer, len(f.banned), f.liarGrace)
	f.log.Warn("giving up", "err", err)
	f.state, f.errMsg = StateError, err.Error()
	f.finish(err)
}

// Silence bounds. A peer that leaves its requests without a single block
// for requestTimeout is evicted, its requests go to the others, and it is
// not connected to again for evictFor: a fake seeder that says it has
// everything and sends nothing holds a slot for seconds, not forever.
const (
	requestTimeout = 10 * time.Second
	evictFor       = time.Minute
)

// expire drops peers that sent no hello in time or stopped reading, and
// evicts those that left their requests unanswered too long, and, while
// the file is incomplete and has all the connections it may, those that
// have had nothing it wants for as long: a peer that says hello and then
// nothing does not keep a slot that a seeder could use.
func (f *file) expire(now time.Time) {
	full := f.maxPeers > 0 && len(f.conns) >= f.maxPeers && !f.complete()
	for _, c := range f.conns {
		switch {
		case !c.hello && now.Sub(c.since) > requestTimeout:
			f.drop(c, errNoHello)
		case c.stuck(now.Add(-requestTimeout)):
			f.drop(c, errStuck)
		case len(c.asked) > 0 && now.Sub(c.progress) > requestTimeout:
			f.evict(c, now, errSilent)
		case full && c.hello && len(c.asked) == 0 && now.Sub(c.progress) > requestTimeout && !f.offers(c):
			f.evict(c, now, errUseless)
		}
	}
}

// evict drops c and keeps its peer away for evictFor.
func (f *file) evict(c *peerConn, now time.Time, err error) {
	f.log.Debug("evicting peer", "peer", c.id, "err", err)
	f.mu.Lock()
	f.evicted[c.id] = now.Add(evictFor)
	f.mu.Unlock()
	f.drop(c, err)
}

// offers reports whether c's peer has a chunk the file wants.
func (f *file) offers(c *peerConn) bool {
	for i := range c.have.Len() {
		if c.have.Has(i) && f.pick.wanted(i) {
			return true
		}
	}
	return false
}
