package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// CollectionStats is a snapshot of one collection a node holds or fetches.
type CollectionStats struct {
	Digest string  `json:"digest"`
	Name   string  `json:"name"`
	Size   int64   `json:"size"`
	State  State   `json:"state"` // downloading until every file is seeding; stalled while no peer has one; error when one fails
	Error  string  `json:"error,omitempty"`
	Files  []Entry `json:"files"`
}

// collection is a collection in a node: its files are ordinary files of
// the node, each in its own swarm.
type collection struct {
	c       *Collection
	raw     []byte
	stats   atomic.Pointer[CollectionStats]
	cancel  context.CancelFunc
	done    chan struct{} // closed when follow has returned
	changed func()        // tells the node's subscribers

	ann announcer
}

// has reports whether d is one of col's files.
func (col *collection) has(d Hash) (Entry, bool) {
	for _, e := range col.c.Files {
		if e.Digest == d {
			return e, true
		}
	}
	return Entry{}, false
}

// set records col's state and tells the node's subscribers if it changed.
func (col *collection) set(state State, msg string) {
	s := *col.stats.Load()
	if s.State == state && s.Error == msg {
		return
	}
	s.State, s.Error = state, msg
	col.stats.Store(&s)
	col.changed()
}

// AddCollection joins the swarm of every file of c, asking the tracker for
// the files the node does not hold, and announces c itself once every file
// is complete: the tracker lists as c's holders only peers with the whole
// set. Adding a collection twice is harmless.
func (n *Node) AddCollection(ctx context.Context, c *Collection) error {
	select {
	case <-n.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if n.collections[c.Digest] != nil {
		return nil
	}
	col := &collection{c: c, raw: raw, done: make(chan struct{}), changed: n.changes.notify}
	col.stats.Store(&CollectionStats{Digest: c.Digest.String(), Name: c.Name, Size: c.Size, State: StateDownloading, Files: c.Files})
	cctx, cancel := context.WithCancel(n.ctx)
	col.cancel = cancel
	n.collections[c.Digest] = col
	n.wg.Go(func() {
		defer close(col.done)
		n.follow(cctx, col)
	})
	n.changes.notify()
	return nil
}

// follow fetches col's files that the node lacks, waits until all are
// complete, then announces col.
func (n *Node) follow(ctx context.Context, col *collection) {
	for _, e := range col.c.Files {
		if n.file(e.Digest) != nil {
			continue
		}
		m, err := n.fetchMember(ctx, e.Digest, func() { col.set(StateStalled, e.Path+": no peer has this file yet; asking again") })
		if err == nil && m.Size != e.Size {
			err = fmt.Errorf("%w: %s is %d bytes, the collection says %d", ErrBadManifest, e.Path, m.Size, e.Size)
		}
		if err != nil {
			if ctx.Err() == nil {
				col.set(StateError, fmt.Sprintf("%s: %v", e.Path, err))
			}
			return
		}
	}
	// Files' states change with a notification; the ticker only retries
	// an announce the tracker did not take.
	changes, unsubscribe := n.Subscribe()
	defer unsubscribe()
	tick := time.NewTicker(n.opts.QueryInterval)
	defer tick.Stop()
	for {
		state, msg := n.membersState(col.c)
		col.set(state, msg)
		if state == StateError {
			return
		}
		if state == StateSeeding && n.conn.WaitConnected(ctx) == nil && n.announceCollection(ctx, col) == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-tick.C:
		}
	}
}

// fetchMember joins the swarm of d, asking the tracker again while no peer
// holds it yet (the collection's holder may announce its files after the
// collection), until ctx ends; waiting is called each time no peer has it.
func (n *Node) fetchMember(ctx context.Context, d Hash, waiting func()) (*Manifest, error) {
	for {
		m, err := n.get(ctx, d, false)
		if err == nil || !errors.Is(err, ErrNoPeers) {
			return m, err
		}
		waiting()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(n.opts.QueryInterval):
		}
	}
}

// membersState is StateSeeding when every file of c is complete,
// StateError (with its message) when one failed, else StateDownloading.
func (n *Node) membersState(c *Collection) (State, string) {
	state := StateSeeding
	for _, e := range c.Files {
		s, ok := n.File(e.Digest)
		switch {
		case !ok:
			return StateError, e.Path + ": removed"
		case s.State == StateError:
			return StateError, e.Path + ": " + s.Error
		case s.State != StateSeeding:
			state = StateDownloading
		}
	}
	return state, ""
}

// announceCollection tells the tracker that the node holds all of col.
func (n *Node) announceCollection(ctx context.Context, col *collection) error {
	return col.ann.announce(func() error {
		ctx, cancel := context.WithTimeout(ctx, trackerTimeout)
		defer cancel()
		err := n.conn.Announce(ctx, Announcement{Digest: col.c.Digest, P2T: col.raw, Have: len(col.c.Files), Complete: true})
		if err != nil {
			n.log.Debug("announce collection", "collection", col.c.Digest, "err", err)
		}
		return err
	})
}

// announceCollections re-announces every complete collection after a
// (re)connection to the tracker.
func (n *Node) announceCollections(ctx context.Context) {
	n.mu.Lock()
	var done []*collection
	for _, col := range n.collections {
		if col.stats.Load().State == StateSeeding {
			done = append(done, col)
		}
	}
	n.mu.Unlock()
	for _, col := range done {
		n.announceCollection(ctx, col)
	}
}

// Lookup asks the tracker what d names and checks it, without joining:
// exactly one result is non-nil on success.
func (n *Node) Lookup(ctx context.Context, d Hash) (*Manifest, *Collection, error) {
	raw, _, err := n.conn.Query(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	return ParseP2T(raw, d)
}

// Resolve is Lookup, then it joins what d names: a file's swarm (Add), or
// a collection (AddCollection).
func (n *Node) Resolve(ctx context.Context, d Hash) (*Manifest, *Collection, error) {
	m, c, err := n.Lookup(ctx, d)
	switch {
	case err != nil:
		return nil, nil, err
	case c != nil:
		return nil, c, n.AddCollection(ctx, c)
	}
	_, err = n.Add(ctx, m)
	return m, nil, err
}

// Collection returns a snapshot of one collection, and false if the node
// does not hold it.
func (n *Node) Collection(d Hash) (CollectionStats, bool) {
	n.mu.Lock()
	col := n.collections[d]
	n.mu.Unlock()
	if col == nil {
		return CollectionStats{}, false
	}
	return *col.stats.Load(), true
}

// RemoveCollection leaves d's collection swarm and removes its files,
// except those still in use: held for themselves (Add) or part of another
// collection the node holds.
func (n *Node) RemoveCollection(ctx context.Context, d Hash) error {
	n.mu.Lock()
	col := n.collections[d]
	delete(n.collections, d)
	var unused []Hash
	if col != nil {
		for _, e := range col.c.Files {
			if !n.inUse(e.Digest) {
				unused = append(unused, e.Digest)
			}
		}
	}
	n.mu.Unlock()
	if col == nil {
		return fmt.Errorf("collection %s: %w", d, ErrNotFound)
	}
	col.cancel()
	<-col.done
	n.leave(ctx, col)
	n.changes.notify()
	var errs []error
	for _, m := range unused {
		if err := n.Remove(ctx, m); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// inUse reports whether file d is held for itself or is part of a
// collection the node holds; n.mu must be held.
func (n *Node) inUse(d Hash) bool {
	if n.alone[d] {
		return true
	}
	for _, col := range n.collections {
		if _, ok := col.has(d); ok {
			return true
		}
	}
	return false
}

// leave stops col being announced (announcer).
func (n *Node) leave(ctx context.Context, col *collection) {
	col.ann.leave(func() { n.conn.Leave(ctx, col.c.Digest) })
}

// breakCollections fails every collection that file d, just removed, is
// part of: the node no longer holds the whole set, so one announced stops
// being announced.
func (n *Node) breakCollections(ctx context.Context, d Hash) {
	n.mu.Lock()
	var hit []*collection
	for _, col := range n.collections {
		if _, ok := col.has(d); ok {
			hit = append(hit, col)
		}
	}
	n.mu.Unlock()
	for _, col := range hit {
		col.cancel()
		<-col.done
		e, _ := col.has(d)
		n.leave(ctx, col)
		col.set(StateError, e.Path+": removed")
	}
}
