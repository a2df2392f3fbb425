package swarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	evAttach  eventKind = iota // a new connection
	evFrame                    // a frame from a connection
	evGone                     // a connection ended
	evChecked                  // a received chunk was verified and stored, or not
)

type event struct {
	kind eventKind
	c    *peerConn
	f    frame
	idx  int
	err  error
}

// file runs one file's part of the swarm: it serves the chunks it holds to
// every connected peer and fetches the ones it misses. One goroutine, run,
// owns its state; everything else reaches it through events.
type file struct {
	m      *Manifest
	store  Chunks
	recent *recentChunks // the node's chunks stored last, or nil
	log    *slog.Logger
	hash   func(context.Context, []byte) (Hash, error)

	events  chan event
	changed chan struct{} // pinged when a chunk is added or the state changes

	// loop
	conns     map[string]*peerConn
	pick      *picker
	source    []int // per chunk: 0 missing, 1 local, k+2 sourceIDs[k]
	sourceIDs []string
	sourceIdx map[string]int
	totals    map[string]*PeerStats
	state     State
	errMsg    string
	lastTick  time.Time

	mu     sync.Mutex // guards banned and peers, read by the node
	banned map[string]string
	peers  map[string]bool

	stats   atomic.Pointer[FileStats]
	dialing atomic.Int32       // connections being set up; the file is not stalled while > 0
	cancel  context.CancelFunc // set by the node; ends run
}

func newFile(m *Manifest, store Chunks, have Bitfield, log *slog.Logger) *file {
	f := &file{
		m:         m,
		store:     store,
		log:       log.With("file", m.Digest.String()[:12]),
		events:    make(chan event, 64),
		changed:   make(chan struct{}, 1),
		conns:     make(map[string]*peerConn),
		pick:      newPicker(have, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))),
		source:    make([]int, m.NumChunks()),
		sourceIdx: make(map[string]int),
		totals:    make(map[string]*PeerStats),
		banned:    make(map[string]string),
		peers:     make(map[string]bool),
		state:     StateDownloading,
		hash:      func(_ context.Context, b []byte) (Hash, error) { return HashChunk(b), nil },
	}
	for i := range f.source {
		if have.Has(i) {
			f.source[i] = 1
		}
	}
	if have.Full() {
		f.state = StateSeeding
	}
	f.publish()
	return f
}

func (f *file) complete() bool { return f.pick.have.Full() }

// attach hands a new connection to the loop.
func (f *file) attach(ctx context.Context, c *peerConn) {
	select {
	case f.events <- event{kind: evAttach, c: c}:
	case <-ctx.Done():
		c.close()
	}
}

// skip reports whether the node should not open a connection to peer id:
// already connected, or banned for lying.
func (f *file) skip(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peers[id] || f.banned[id] != ""
}

func (f *file) peerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.peers)
}

func (f *file) ping() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// run is the file's loop. It returns when ctx ends, closing every
// connection.
func (f *file) run(ctx context.Context) {
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	f.lastTick = time.Now()
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
		case now := <-tick.C:
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
		return f.attachConn(ctx, c)
	case evGone:
		f.drop(c, ev.err)
		return true
	case evChecked:
		return f.checked(c, ev.idx, ev.err)
	}
	if f.conns[c.id] != c {
		return false // a frame from a connection already dropped
	}
	asked := len(c.asked)
	if err := f.frame(ctx, c, ev.f); err != nil {
		f.drop(c, err)
		return true
	}
	// Most pieces are one block of a chunk still arriving: only the one
	// that completes a chunk frees a pipeline slot.
	return ev.f.Kind != kindPiece || len(c.asked) < asked
}

func (f *file) attachConn(ctx context.Context, c *peerConn) bool {
	f.mu.Lock()
	reason := f.banned[c.id]
	f.mu.Unlock()
	if reason != "" {
		c.close()
		return false
	}
	if old := f.conns[c.id]; old != nil {
		// Both ends keep the connection that the lower peer ID opened, so
		// two peers that dial each other at once agree on one.
		if old.initiator <= c.initiator {
			c.close()
			return false
		}
		f.drop(old, errors.New("replaced by a simultaneous connection"))
	}
	f.conns[c.id] = c
	c.since = time.Now()
	f.mu.Lock()
	f.peers[c.id] = true
	f.mu.Unlock()
	if f.totals[c.id] == nil {
		f.totals[c.id] = &PeerStats{ID: c.id}
	}
	c.out.control(appendHello(nil, f.pick.have))
	go f.readLoop(ctx, c)
	go func() {
		if err := c.writeLoop(ctx, f.readChunk); err != nil {
			c.close()
		}
	}()
	f.log.Debug("peer connected", "peer", c.id)
	return false
}

func (f *file) readLoop(ctx context.Context, c *peerConn) {
	for {
		b, err := c.t.Recv(ctx)
		if err == nil {
			var fr frame
			fr, err = decodeFrame(b)
			if err == nil {
				c.bytesIn.Add(int64(len(fr.Data)))
				select {
				case f.events <- event{kind: evFrame, c: c, f: fr}:
					continue
				case <-ctx.Done():
					return
				}
			}
		}
		select {
		case f.events <- event{kind: evGone, c: c, err: err}:
		case <-ctx.Done():
		}
		return
	}
}

// frame applies one frame from c; an error drops c.
func (f *file) frame(ctx context.Context, c *peerConn, fr frame) error {
	n := f.m.NumChunks()
	if fr.Kind == kindHello {
		if c.hello {
			return fmt.Errorf("%w: second hello", ErrProtocol)
		}
		if fr.Version != WireVersion {
			return fmt.Errorf("%w: wire version %d, want %d", ErrProtocol, fr.Version, WireVersion)
		}
		bf, ok := BitfieldFromBytes(n, fr.Have)
		if !ok {
			return fmt.Errorf("%w: hello for %d chunks, file has %d", ErrProtocol, fr.Count, n)
		}
		c.hello, c.have = true, bf
		f.pick.addPeer(bf)
		return nil
	}
	if !c.hello {
		return fmt.Errorf("%w: %v before hello", ErrProtocol, fr.Kind)
	}
	if fr.Index >= n {
		return fmt.Errorf("%w: %v for chunk %d of %d", ErrProtocol, fr.Kind, fr.Index, n)
	}
	i := fr.Index
	switch fr.Kind {
	case kindHave:
		if !c.have.Has(i) {
			c.have.Set(i)
			f.pick.avail[i]++
		}
	case kindRequest:
		if !f.pick.have.Has(i) || !c.out.upload(i) {
			c.out.control(appendIndex(nil, kindReject, i))
		}
	case kindCancel:
		c.out.cancel(i)
	case kindReject:
		if c.asked[i] != nil {
			f.unask(c, i)
		}
		if c.have.Has(i) {
			c.have.Clear(i)
			f.pick.avail[i]--
		}
	case kindPiece:
		return f.piece(ctx, c, fr)
	}
	return nil
}

// piece adds one block to a requested chunk and, once the chunk is whole,
// hands it to a goroutine for verification and storage.
func (f *file) piece(ctx context.Context, c *peerConn, fr frame) error {
	a := c.asked[fr.Index]
	if a == nil {
		return nil // cancelled, or already received from someone else
	}
	size := f.m.ChunkLen(fr.Index)
	blk := fr.Offset / BlockSize
	if fr.Offset%BlockSize != 0 || fr.Offset >= size || len(fr.Data) != min(BlockSize, size-fr.Offset) || a.got.Has(blk) {
		return fmt.Errorf("%w: bad block at %d of chunk %d", ErrProtocol, fr.Offset, fr.Index)
	}
	if a.buf == nil {
		a.buf = make([]byte, size)
		a.got = NewBitfield((size + BlockSize - 1) / BlockSize)
	}
	copy(a.buf[fr.Offset:], fr.Data)
	a.got.Set(blk)
	a.since = time.Now()
	if !a.got.Full() {
		return nil
	}
	i := fr.Index
	f.unask(c, i)
	f.pick.busy.Set(i)
	for _, o := range f.conns {
		if o.asked[i] != nil {
			o.out.control(appendIndex(nil, kindCancel, i))
			f.unask(o, i)
		}
	}
	go func(data []byte) {
		h, err := f.hash(ctx, data)
		switch {
		case err != nil:
		case h != f.m.Chunks[i]:
			err = fmt.Errorf("chunk %d from peer %s: %w", i, c.id, ErrBadChunk)
		default:
			if err = f.store.WriteChunk(ctx, i, data); err == nil {
				f.stored(i, data)
			}
		}
		select {
		case f.events <- event{kind: evChecked, c: c, idx: i, err: err}:
		case <-ctx.Done():
		}
	}(a.buf)
	return nil
}

func (f *file) unask(c *peerConn, i int) {
	delete(c.asked, i)
	f.pick.inflight[i]--
}

// checked records the outcome of verifying and storing chunk i from c.
func (f *file) checked(c *peerConn, i int, err error) bool {
	f.pick.busy.Clear(i)
	switch {
	case err == nil:
		f.pick.have.Set(i)
		f.source[i] = f.sourceOf(c.id)
		if t := f.totals[c.id]; t != nil {
			t.Chunks++
		}
		for _, o := range f.conns {
			o.out.control(appendIndex(nil, kindHave, i))
		}
		if f.complete() {
			f.state = StateSeeding
			f.log.Info("download complete")
			f.publish()
		}
		f.ping()
	case errors.Is(err, ErrBadChunk):
		f.log.Warn("dropping lying peer", "peer", c.id, "err", err)
		f.mu.Lock()
		f.banned[c.id] = err.Error()
		f.mu.Unlock()
		if f.conns[c.id] == c {
			f.drop(c, err)
		}
	default:
		f.log.Error("storing chunk", "chunk", i, "err", err)
		f.state, f.errMsg = StateError, err.Error()
		f.publish()
		f.ping()
	}
	return true
}

func (f *file) sourceOf(id string) int {
	k, ok := f.sourceIdx[id]
	if !ok {
		k = len(f.sourceIDs)
		f.sourceIDs = append(f.sourceIDs, id)
		f.sourceIdx[id] = k
	}
	return k + 2
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
		f.log.Debug("peer disconnected", "peer", c.id, "err", err)
	}
	c.close()
}

// schedule fills every peer's request pipeline.
func (f *file) schedule() {
	if f.state == StateError || f.complete() {
		return
	}
	// Chunks received but not yet verified and stored hold a whole chunk
	// in memory each; past the bound, storage is the bottleneck and asking
	// for more would only pile them up.
	if f.pick.busy.Count() >= maxBusy {
		return
	}
	endgame := f.pick.endgame()
	for _, c := range f.conns {
		for c.hello && len(c.asked) < c.depth {
			i, ok := f.pick.pick(c.have, c.asked, endgame)
			if !ok {
				break
			}
			c.asked[i] = &assembly{since: time.Now()}
			f.pick.inflight[i]++
			c.out.control(appendIndex(nil, kindRequest, i))
		}
	}
}

// tick measures rates, sizes pipelines, and works out the state.
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
		c.lastIn, c.lastOut = in, out
		want := int(c.rateIn*pipelineSeconds/float64(f.m.ChunkSize)) + 1
		c.depth = max(minPipeline, min(maxPipeline, want))
	}
	f.expire(now)
	if f.state != StateError && !f.complete() {
		inflight := false
		for _, c := range f.conns {
			inflight = inflight || len(c.asked) > 0
		}
		old := f.state
		if inflight || f.pick.busy.Count() > 0 || f.pick.missingAvailable() || f.dialing.Load() > 0 {
			f.state = StateDownloading
		} else {
			f.state = StateStalled
		}
		if old != f.state {
			f.ping()
		}
	}
	f.publish()
}

// requestTimeout is how long a request may go without a block before it
// is cancelled and given to another peer.
const requestTimeout = 10 * time.Second

// expire cancels requests that a peer has left unanswered too long; the
// chunks go back to the pool for the next schedule.
func (f *file) expire(now time.Time) {
	for _, c := range f.conns {
		if !c.hello && now.Sub(c.since) > requestTimeout {
			f.drop(c, fmt.Errorf("%w: no hello within %v", ErrProtocol, requestTimeout))
			continue
		}
		for i, a := range c.asked {
			if now.Sub(a.since) > requestTimeout {
				f.log.Debug("request timed out", "peer", c.id, "chunk", i)
				c.out.control(appendIndex(nil, kindCancel, i))
				f.unask(c, i)
			}
		}
	}
}
