package swarm

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Node. The zero value of each field is a documented
// default; Connector is required.
type Options struct {
	// Connector finds peers and opens connections to them: rtc.New for
	// the tracker and WebRTC.
	Connector Connector
	// Library keeps the chunks. Nil: a MemLibrary.
	Library Library
	// Logger receives the node's logs. Nil: discard.
	Logger *slog.Logger
	// MaxPeers bounds the connections a file opens to fetch chunks; a
	// file with that many sheds peers that have nothing it wants. Zero: 12.
	MaxPeers int
	// Hash computes a chunk's SHA-256 for verification. Nil: HashChunk. A
	// browser on a secure page passes one backed by crypto.subtle.
	Hash func(ctx context.Context, data []byte) (Hash, error)
	// QueryInterval is how often a file that still misses chunks asks the
	// tracker for more peers. Zero: 5 seconds.
	QueryInterval time.Duration
	// LiarGrace is how long a download stays stalled after the peers that
	// had its missing chunks were banned for sending corrupt data, waiting
	// for an honest one, before it ends with an error wrapping
	// ErrLyingPeer. Zero: one minute.
	LiarGrace time.Duration
}

// Node is the peer engine: it holds files, serves the chunks it has and
// fetches the ones it misses over the connections its Connector opens. The
// same Node runs natively and in a browser tab; only the Library and the
// Connector's transport differ.
type Node struct {
	opts Options
	log  *slog.Logger
	conn Connector

	running atomic.Bool
	ready   chan struct{}   // closed once Run has set ctx
	ctx     context.Context // Run's, once ready is closed
	wg      sync.WaitGroup  // goroutines of the node and its files
	changes notifier

	recent *recentChunks // the chunks stored last, of every file

	mu          sync.Mutex
	closed      bool // Run has returned or is returning
	files       map[Hash]*file
	collections map[Hash]*collection
	alone       map[Hash]bool // files held for themselves (Add), not only as part of a collection
}

// NewNode returns a Node; call Run to start it.
func NewNode(opts Options) *Node {
	if opts.Library == nil {
		opts.Library = new(MemLibrary)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxPeers == 0 {
		opts.MaxPeers = 12
	}
	if opts.Hash == nil {
		opts.Hash = func(_ context.Context, data []byte) (Hash, error) { return HashChunk(data), nil }
	}
	if opts.QueryInterval == 0 {
		opts.QueryInterval = 5 * time.Second
	}
	return &Node{
		opts:        opts,
		log:         opts.Logger,
		conn:        opts.Connector,
		ready:       make(chan struct{}),
		recent:      newRecentChunks(recentBytes),
		files:       make(map[Hash]*file),
		collections: make(map[Hash]*collection),
		alone:       make(map[Hash]bool),
	}
}

// Run runs the connector and every file until ctx ends. Files held in the
// Library join their swarms at once. Run returns only once every goroutine
// of the node has ended and the last chunk write is done, so the caller
// may then close the Library. Files resumed from the Library are not held
// for themselves (RemoveCollection may remove them) until Add is called
// for them. A second call returns ErrRunning.
func (n *Node) Run(ctx context.Context) error {
	if n.conn == nil {
		return fmt.Errorf("swarm: Options.Connector is nil")
	}
	if !n.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	n.ctx = ctx
	close(n.ready)
	defer n.shutdown(cancel)
	ms, err := n.opts.Library.Files(ctx)
	if err != nil {
		return fmt.Errorf("listing files: %w", err)
	}
	for _, m := range ms {
		if _, err := n.add(ctx, m, false); err != nil {
			n.log.Error("resuming file", "file", m.Digest, "err", err)
		}
	}
	return n.conn.Run(ctx, handler{n})
}

// shutdown ends every file and waits for all the node's goroutines.
func (n *Node) shutdown(cancel context.CancelFunc) {
	cancel()
	n.mu.Lock()
	n.closed = true
	files := n.all()
	n.mu.Unlock()
	n.wg.Wait()
	for _, f := range files {
		f.finish(ErrClosed)
	}
	n.changes.notify()
}

// all returns every file; n.mu must be held.
func (n *Node) all() []*file {
	fs := make([]*file, 0, len(n.files))
	for _, f := range n.files {
		fs = append(fs, f)
	}
	return fs
}

// PeerID returns the ID the tracker gave this node, or "" while it is not
// connected.
func (n *Node) PeerID() string { return n.conn.PeerID() }

// WaitConnected blocks until the node's connector is connected.
func (n *Node) WaitConnected(ctx context.Context) error { return n.conn.WaitConnected(ctx) }

// Add joins the swarm of m's file: it serves the chunks the Library holds
// and fetches the rest. The file is held for itself: removing a collection
// it is part of keeps it. Adding a file twice is harmless. It waits for Run
// to start.
func (n *Node) Add(ctx context.Context, m *Manifest) (State, error) {
	return n.add(ctx, m, true)
}

// AddMember is Add for a file added as part of a collection (see
// AddCollection): removing the collection removes it too, unless it is
// also held for itself or part of another collection.
func (n *Node) AddMember(ctx context.Context, m *Manifest) (State, error) {
	return n.add(ctx, m, false)
}

// add is Add, holding the file for itself when alone.
func (n *Node) add(ctx context.Context, m *Manifest, alone bool) (State, error) {
	select {
	case <-n.ready:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if f := n.holdFile(m.Digest, alone); f != nil {
		return f.stats.Load().State, nil
	}
	store, err := n.opts.Library.Open(ctx, m)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", m.Digest, err)
	}
	have, err := store.Have(ctx)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", m.Digest, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return "", ErrClosed
	}
	if f := n.files[m.Digest]; f != nil {
		n.alone[m.Digest] = n.alone[m.Digest] || alone
		return f.stats.Load().State, nil
	}
	if alone {
		n.alone[m.Digest] = true
	}
	f := newFile(m, store, have, n.log)
	f.hash = n.opts.Hash
	f.recent = n.recent
	f.onChange = n.changes.notify
	f.maxPeers = n.opts.MaxPeers
	if n.opts.LiarGrace > 0 {
		f.liarGrace = n.opts.LiarGrace
	}
	n.files[m.Digest] = f
	fctx, cancel := context.WithCancel(n.ctx)
	f.cancel = cancel
	n.wg.Go(func() { f.run(fctx) })
	n.wg.Go(func() { n.manage(fctx, f) })
	n.changes.notify()
	return f.stats.Load().State, nil
}

// Get asks the tracker for the manifest of digest d, checks it, and adds
// the file. An error wrapping ErrNoPeers means no peer holds it. A digest
// of a collection gives an error wrapping ErrCollection; Resolve takes
// both.
func (n *Node) Get(ctx context.Context, d Hash) (*Manifest, error) {
	return n.get(ctx, d, true)
}

// get is Get, holding the file for itself when alone.
func (n *Node) get(ctx context.Context, d Hash, alone bool) (*Manifest, error) {
	raw, peers, err := n.conn.Query(ctx, d)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(raw, d)
	if err != nil {
		return nil, err
	}
	if _, err := n.add(ctx, m, alone); err != nil {
		return nil, err
	}
	n.connectAll(m.Digest, peers)
	return m, nil
}

// Remove leaves d's swarm and deletes its chunks, once the file's last
// write is done. Wait for d returns ErrRemoved. A collection the file is
// part of is no longer whole: it stops being announced and fails.
func (n *Node) Remove(ctx context.Context, d Hash) error {
	n.mu.Lock()
	f := n.files[d]
	delete(n.files, d)
	delete(n.alone, d)
	n.mu.Unlock()
	defer n.breakCollections(ctx, d)
	if f != nil {
		f.cancel()
		f.finish(ErrRemoved)
		f.idle(ctx)
		f.ann.leave(func() { n.conn.Leave(ctx, d) })
		n.changes.notify()
	}
	return n.opts.Library.Remove(ctx, d)
}

// Wait blocks until file d is complete (nil) or has failed, and returns
// its error: one wrapping ErrQuota when storage is full, one wrapping
// ErrLyingPeer when the peers that had the missing chunks sent corrupt
// data and no honest one came within Options.LiarGrace, the store's own
// error otherwise, ErrRemoved after Remove, ErrClosed when the node
// stopped, ErrNotFound when the node does not hold d, or ctx's error.
func (n *Node) Wait(ctx context.Context, d Hash) error {
	f := n.file(d)
	if f == nil {
		return fmt.Errorf("%s: %w", d, ErrNotFound)
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the error file d failed with, or nil while it has not failed
// (or is complete). Unlike Wait it never blocks.
func (n *Node) Err(d Hash) error {
	f := n.file(d)
	if f == nil {
		return nil
	}
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

// Subscribe returns a channel that receives a value after something a
// snapshot shows has changed (a file added, removed, or its stats), and a
// function that ends the subscription. Changes coalesce: a slow reader
// gets one value for many changes, then reads Stats or File.
func (n *Node) Subscribe() (<-chan struct{}, func()) { return n.changes.subscribe() }

// Stats returns a snapshot of every file. It never blocks, so a browser
// event handler may call it.
func (n *Node) Stats() Stats {
	s := Stats{PeerID: n.conn.PeerID(), Files: []FileStats{}, Collections: []CollectionStats{}}
	n.mu.Lock()
	for _, f := range n.files {
		s.Files = append(s.Files, *f.stats.Load())
	}
	for _, col := range n.collections {
		s.Collections = append(s.Collections, *col.stats.Load())
	}
	n.mu.Unlock()
	return s
}

// File returns a snapshot of one file, and false if the node does not hold it.
func (n *Node) File(d Hash) (FileStats, bool) {
	f := n.file(d)
	if f == nil {
		return FileStats{}, false
	}
	return *f.stats.Load(), true
}

// Manifest returns the manifest of a file the node holds, or nil.
func (n *Node) Manifest(d Hash) *Manifest {
	if f := n.file(d); f != nil {
		return f.m
	}
	return nil
}

// holdFile returns file d, if the node has it, holding it for itself
// from now on when alone.
func (n *Node) holdFile(d Hash, alone bool) *file {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.files[d]
	if f != nil && alone {
		n.alone[d] = true
	}
	return f
}

func (n *Node) file(d Hash) *file {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.files[d]
}
