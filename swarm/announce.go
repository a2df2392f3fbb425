package swarm

import (
	"context"
	"encoding/json"
	"time"
)

// announceInterval spaces out the announces of a file being downloaded;
// reportInterval those that only update the byte counters.
const (
	announceInterval = 2 * time.Second
	reportInterval   = 10 * time.Second
	trackerTimeout   = 10 * time.Second // one announce or query
)

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
		if err := n.conn.WaitConnected(ctx); err != nil {
			return
		}
		n.query(ctx, f)
	}
	for {
		s := f.stats.Load()
		complete := s.Have == s.Chunks
		changed := s.Have != announced || (s.Sent != sent && time.Since(last) >= reportInterval)
		if changed && (complete || time.Since(last) >= announceInterval) {
			if err := n.conn.WaitConnected(ctx); err != nil {
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

// announce tells the tracker what the node holds of f.
func (n *Node) announce(ctx context.Context, f *file, withManifest bool) error {
	s := f.stats.Load()
	a := Announcement{
		Digest: f.m.Digest, Have: s.Have, Complete: s.Have == s.Chunks,
		Uploaded: s.Sent, Downloaded: s.Received,
	}
	if withManifest {
		raw, err := json.Marshal(f.m)
		if err != nil {
			return err
		}
		a.P2T = raw
	}
	return f.ann.announce(func() error {
		ctx, cancel := context.WithTimeout(ctx, trackerTimeout)
		defer cancel()
		err := n.conn.Announce(ctx, a)
		if err != nil {
			n.log.Debug("announce", "file", s.Digest, "err", err)
		}
		return err
	})
}

// query asks the tracker for f's peers and dials them.
func (n *Node) query(ctx context.Context, f *file) {
	ctx, cancel := context.WithTimeout(ctx, trackerTimeout)
	defer cancel()
	_, peers, err := n.conn.Query(ctx, f.m.Digest)
	if err != nil {
		n.log.Debug("query", "file", f.m.Digest, "err", err)
		return
	}
	n.connectAll(f.m.Digest, peers)
}
