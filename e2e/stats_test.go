package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
)

// tabStats is what window.tabswarm.stats() returns: an object holding the
// tab's peer ID and one swarm.FileStats per file.
type tabStats struct {
	PeerID string            `json:"peer_id"`
	Files  []swarm.FileStats `json:"files"`
}

// file returns the stats of the file with digest d.
func (s tabStats) file(d string) (swarm.FileStats, bool) {
	for _, f := range s.Files {
		if f.Digest == d {
			return f, true
		}
	}
	return swarm.FileStats{}, false
}

// stats reads window.tabswarm.stats().
func (p *person) stats(ctx context.Context) (tabStats, error) {
	var s tabStats
	raw, err := evalJS[string](ctx, `window.tabswarm ? JSON.stringify(window.tabswarm.stats()) : ""`)
	if err != nil {
		return s, err
	}
	if raw == "" {
		return s, fmt.Errorf("window.tabswarm is not there yet")
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return s, fmt.Errorf("tabswarm.stats() is not the JSON expected: %w: %.300s", err, raw)
	}
	return s, nil
}

// mustStats reads p's stats or fails.
func (p *person) mustStats(tb testing.TB) tabStats {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := p.stats(ctx)
	if err != nil {
		tb.Fatalf("%s: %v\n%s", p.name, err, p.dump())
	}
	return s
}

// waitFirstChunk waits until p's row for digest shows a chunk stored (or
// the download's end), and returns the time since start (when Get was
// pressed).
func (p *person) waitFirstChunk(tb testing.TB, digest string, start time.Time, timeout time.Duration) time.Duration {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	state, err := p.rowWhen(ctx, digest, `r.querySelector("progress").value > 0 || r.dataset.state === "error"`)
	if err != nil || state == stateError {
		tb.Fatalf("%s: waiting for the first chunk of %s: state %q, %v\n%s", p.name, digest, state, err, p.dump())
	}
	return time.Since(start)
}

// waitFile polls p's stats every interval until the file with digest d
// satisfies cond, and returns its stats. It fails with a dump of the stats
// and the page when timeout passes or the file reaches state error.
func (p *person) waitFile(tb testing.TB, what, d string, interval, timeout time.Duration, cond func(swarm.FileStats) bool) swarm.FileStats {
	tb.Helper()
	var last tabStats
	var got swarm.FileStats
	var bad string
	err := poll(p.ctx, timeout, interval, func(ctx context.Context) (bool, error) {
		s, err := p.stats(ctx)
		if err != nil {
			return false, err
		}
		last = s
		f, ok := s.file(d)
		if !ok {
			return false, nil
		}
		got = f
		if f.State == swarm.StateError {
			bad = f.Error
			return true, nil
		}
		return cond(f), nil
	})
	if bad != "" {
		tb.Fatalf("%s: waiting for %s: the file went to state error: %s\n%s\n%s", p.name, what, bad, statsText(last), p.dump())
	}
	if err != nil {
		tb.Fatalf("%s: %s did not happen within %v: %v\n%s\n%s", p.name, what, timeout, err, statsText(last), p.dump())
	}
	return got
}

// statsText describes stats for a failure message or the log, leaving out
// the chunk map.
func statsText(s tabStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stats of peer %s:\n", s.PeerID)
	for _, f := range s.Files {
		b.WriteString("  " + fileText(f) + "\n")
	}
	return b.String()
}

// fileText describes one file's stats on a few lines.
func fileText(f swarm.FileStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.12s %q %s %d/%d chunks, received %d, sent %d", f.Digest, f.Name, f.State, f.Have, f.Chunks, f.Received, f.Sent)
	if f.Error != "" {
		fmt.Fprintf(&b, ", error %q", f.Error)
	}
	for _, p := range f.Peers {
		fmt.Fprintf(&b, "\n    peer %s connected=%v chunks=%d received=%d sent=%d", p.ID, p.Connected, p.Chunks, p.Received, p.Sent)
		if p.Banned != "" {
			fmt.Fprintf(&b, " banned=%q", p.Banned)
		}
	}
	return b.String()
}

// peerStats returns what f says about peer id.
func peerStats(f swarm.FileStats, id string) (swarm.PeerStats, bool) {
	for _, p := range f.Peers {
		if p.ID == id {
			return p, true
		}
	}
	return swarm.PeerStats{}, false
}

// localBytes is the size of the chunks that f's map marks as held before
// this tab started (map value 1): what a reloaded tab found in IndexedDB.
func localBytes(f swarm.FileStats) int64 {
	cs := swarm.ChunkSize(f.Size)
	var n int64
	for i, v := range f.Map {
		if v == 1 {
			n += min(cs, f.Size-int64(i)*cs)
		}
	}
	return n
}

// dumpOnFailure logs the stats of every person in ps if tb fails. Call it
// after the persons exist, so that it runs before their tabs close.
func dumpOnFailure(tb testing.TB, ps ...*person) {
	tb.Cleanup(func() {
		if !tb.Failed() {
			return
		}
		for _, p := range ps {
			ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
			s, err := p.stats(ctx)
			cancel()
			if err != nil {
				tb.Logf("%s: stats: %v", p.name, err)
				continue
			}
			tb.Logf("%s at the failure: %s", p.name, statsText(s))
		}
	})
}
