package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"tabswarm/signaling"
)

// Options configures a Node. The zero value of each field is a documented
// default; Tracker is required.
type Options struct {
	// Tracker is the WebSocket URL of the tracker's signalling endpoint,
	// ws://host:port/ws.
	Tracker string
	// Library keeps the chunks. Nil: a MemLibrary.
	Library Library
	// Logger receives the node's logs. Nil: discard.
	Logger *slog.Logger
	// MaxPeers bounds the connections per file. Zero: 12.
	MaxPeers int
	// ICEServers are STUN or TURN servers for peers on different networks.
	// None are needed on a LAN.
	ICEServers []webrtc.ICEServer
	// Token is a private tracker's access token; empty for an open one.
	Token string
	// Hash computes a chunk's SHA-256 for verification. Nil: HashChunk. A
	// browser on a secure page passes one backed by crypto.subtle.
	Hash func(ctx context.Context, data []byte) (Hash, error)
	// QueryInterval is how often a file that still misses chunks asks the
	// tracker for more peers. Zero: 5 seconds.
	QueryInterval time.Duration
}

// Node is one peer: it joins the swarm of every file it holds, serves their
// chunks and fetches the ones it misses. The same Node runs natively and in
// a browser tab; only the Library differs.
type Node struct {
	opts   Options
	log    *slog.Logger
	client *signaling.Client
	api    *webrtc.API

	ready chan struct{}
	ctx   context.Context // Run's, once ready is closed

	recent *recentChunks // the chunks stored last, of every file

	mu          sync.Mutex
	files       map[Hash]*file
	collections map[Hash]*collection
	sessions    map[string]*rtcSession
}

// NewNode returns a Node; call Run to start it.
func NewNode(opts Options) *Node {
	if opts.Library == nil {
		opts.Library = new(MemLibrary)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
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
	n := &Node{
		opts:        opts,
		log:         opts.Logger,
		api:         newAPI(),
		ready:       make(chan struct{}),
		recent:      newRecentChunks(recentBytes),
		files:       make(map[Hash]*file),
		collections: make(map[Hash]*collection),
		sessions:    make(map[string]*rtcSession),
	}
	n.client = signaling.NewClient(opts.Tracker, signaling.Options{
		Logger:    opts.Logger,
		Token:     opts.Token,
		OnConnect: n.announceAll,
	})
	return n
}

// SetName sets the name the tracker shows others for this node instead
// of its peer ID (see signaling.TypeHello) and returns it cleaned; a name
// signaling.CleanName refuses is an error and changes nothing.
func (n *Node) SetName(ctx context.Context, name string) (string, error) {
	return n.client.SetName(ctx, name)
}

// Run connects to the tracker, reconnecting as needed, and serves until ctx
// ends. Files held in the Library join their swarms at once.
func (n *Node) Run(ctx context.Context) error {
	n.ctx = ctx
	close(n.ready)
	ms, err := n.opts.Library.Files(ctx)
	if err != nil {
		return fmt.Errorf("listing files: %w", err)
	}
	for _, m := range ms {
		if _, err := n.Add(ctx, m); err != nil {
			n.log.Error("resuming file", "file", m.Digest, "err", err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- n.client.Run(ctx) }()
	for {
		select {
		case m := <-n.client.Messages():
			n.dispatch(ctx, m)
		case err := <-errc:
			return err
		}
	}
}

// PeerID returns the ID the tracker gave this node, or "" while it is not
// connected.
func (n *Node) PeerID() string { return n.client.PeerID() }

// WaitConnected blocks until the node is connected to the tracker.
func (n *Node) WaitConnected(ctx context.Context) error { return n.client.WaitConnected(ctx) }

// Add joins the swarm of m's file: it serves the chunks the Library holds
// and fetches the rest. Adding a file twice is harmless.
func (n *Node) Add(ctx context.Context, m *Manifest) (State, error) {
	select {
	case <-n.ready:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	n.mu.Lock()
	f := n.files[m.Digest]
	n.mu.Unlock()
	if f != nil {
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
	if f := n.files[m.Digest]; f != nil {
		return f.stats.Load().State, nil
	}
	f = newFile(m, store, have, n.log)
	f.hash = n.opts.Hash
	f.recent = n.recent
	n.files[m.Digest] = f
	fctx, cancel := context.WithCancel(n.ctx)
	f.cancel = cancel
	go f.run(fctx)
	go n.manage(fctx, f)
	return f.stats.Load().State, nil
}

// Get asks the tracker for the manifest of digest d, checks it, and adds
// the file. A digest of a collection gives an error wrapping ErrCollection;
// Resolve takes both.
func (n *Node) Get(ctx context.Context, d Hash) (*Manifest, error) {
	reply, err := n.ask(ctx, d)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(reply.Manifest, d)
	if err != nil {
		return nil, err
	}
	if _, err := n.Add(ctx, m); err != nil {
		return nil, err
	}
	n.connectAll(m.Digest, reply.Peers)
	return m, nil
}

// ask asks the tracker who holds d, and for its .p2t.
func (n *Node) ask(ctx context.Context, d Hash) (signaling.Message, error) {
	if err := n.client.WaitConnected(ctx); err != nil {
		return signaling.Message{}, fmt.Errorf("%w: %v", ErrNoTracker, err)
	}
	reply, err := n.client.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: d.String()})
	var te *signaling.Error
	if errors.As(err, &te) && te.Code == signaling.CodeUnknownFile {
		return reply, fmt.Errorf("%s: %w", d, ErrNoPeers)
	}
	if err != nil {
		return reply, fmt.Errorf("asking the tracker for %s: %w", d, err)
	}
	return reply, nil
}

// Remove leaves m's swarm and deletes its chunks.
func (n *Node) Remove(ctx context.Context, d Hash) error {
	n.mu.Lock()
	f := n.files[d]
	delete(n.files, d)
	n.mu.Unlock()
	if f != nil {
		f.cancel()
		n.client.Send(ctx, signaling.Message{Type: signaling.TypeLeave, Digest: d.String()})
	}
	return n.opts.Library.Remove(ctx, d)
}

// Stats returns a snapshot of every file. It never blocks, so a browser
// event handler may call it.
func (n *Node) Stats() Stats {
	s := Stats{PeerID: n.client.PeerID(), Files: []FileStats{}, Collections: []CollectionStats{}}
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
	n.mu.Lock()
	f := n.files[d]
	n.mu.Unlock()
	if f == nil {
		return FileStats{}, false
	}
	return *f.stats.Load(), true
}

func (n *Node) file(d Hash) *file {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.files[d]
}

// manage keeps the tracker up to date about f, at most once per
// announceInterval until f is complete, and, while f misses chunks, asks
// the tracker for more peers.
func (n *Node) manage(ctx context.Context, f *file) {
	announced, withManifest := -1, true
	var sent int64
	var last time.Time
	query := time.NewTicker(n.opts.QueryInterval)
	defer query.Stop()
	if s := f.stats.Load(); s.State != StateSeeding {
		// A resumed or .p2t download looks for peers at once.
		if err := n.client.WaitConnected(ctx); err != nil {
			return
		}
		n.query(ctx, f)
	}
	for {
		s := f.stats.Load()
		complete := s.Have == s.Chunks
		changed := s.Have != announced || (s.Sent != sent && time.Since(last) >= reportInterval)
		if changed && (complete || time.Since(last) >= announceInterval) {
			if err := n.client.WaitConnected(ctx); err != nil {
				return
			}
			if err := n.announce(ctx, f, withManifest); err == nil {
				announced, sent, withManifest, last = s.Have, s.Sent, false, time.Now()
			}
		}
		select {
		case <-f.changed:
		case <-query.C:
			if s.State != StateSeeding && s.State != StateError && f.peerCount() < n.opts.MaxPeers {
				n.query(ctx, f)
			}
		case <-ctx.Done():
			return
		}
	}
}

// announceInterval spaces out the announces of a file being downloaded;
// reportInterval those that only update the byte counters.
const (
	announceInterval = 2 * time.Second
	reportInterval   = 10 * time.Second
)

func (n *Node) announce(ctx context.Context, f *file, withManifest bool) error {
	s := f.stats.Load()
	msg := signaling.Message{
		Type: signaling.TypeAnnounce, Digest: s.Digest, Have: s.Have, Complete: s.Have == s.Chunks,
		Uploaded: s.Sent, Downloaded: s.Received,
	}
	if withManifest {
		raw, err := json.Marshal(f.m)
		if err != nil {
			return err
		}
		msg.Manifest = raw
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := n.client.Request(ctx, msg)
	if err != nil {
		n.log.Debug("announce", "file", s.Digest, "err", err)
	}
	return err
}

// announceAll re-announces every file after a (re)connection to the tracker.
func (n *Node) announceAll(ctx context.Context, peerID string) {
	n.mu.Lock()
	files := make([]*file, 0, len(n.files))
	for _, f := range n.files {
		files = append(files, f)
	}
	n.mu.Unlock()
	for _, f := range files {
		n.announce(ctx, f, true)
	}
	n.announceCollections(ctx)
}

func (n *Node) query(ctx context.Context, f *file) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reply, err := n.client.Request(ctx, signaling.Message{Type: signaling.TypeQuery, Digest: f.m.Digest.String()})
	if err != nil {
		n.log.Debug("query", "file", f.m.Digest, "err", err)
		return
	}
	n.connectAll(f.m.Digest, reply.Peers)
}

// dispatch handles one unsolicited message from the tracker.
func (n *Node) dispatch(ctx context.Context, m signaling.Message) {
	switch m.Type {
	case signaling.TypeSignal:
		if m.Signal != nil {
			n.signal(ctx, m.From, m.Digest, *m.Signal)
		}
	case signaling.TypePeers:
		d, err := ParseDigest(m.Digest)
		if err == nil {
			n.connectAll(d, m.Peers)
		}
	}
}

// connectAll opens connections for file d to the given peers, up to the
// per-file bound, unless d is complete.
func (n *Node) connectAll(d Hash, peers []signaling.PeerInfo) {
	f := n.file(d)
	if f == nil || f.stats.Load().State == StateSeeding {
		return
	}
	self := n.client.PeerID()
	room := n.opts.MaxPeers - f.peerCount()
	for _, p := range peers {
		if room <= 0 {
			return
		}
		if p.ID == self || f.skip(p.ID) || n.dialing(d, p.ID) {
			continue
		}
		room--
		go n.dial(n.ctx, f, p.ID)
	}
}

// Manifest returns the manifest of a file the node holds, or nil.
func (n *Node) Manifest(d Hash) *Manifest {
	if f := n.file(d); f != nil {
		return f.m
	}
	return nil
}
