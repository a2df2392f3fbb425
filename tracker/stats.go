package tracker

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// statsBody is GET /api/stats, and what /stats shows.
type statsBody struct {
	Started           time.Time `json:"started"`
	UptimeSeconds     float64   `json:"uptime_seconds"`
	Peers             int       `json:"peers"`       // connected
	SwarmCount        int       `json:"swarm_count"` // all of them, listed or not
	MessagesPerSecond float64   `json:"messages_per_second"`
	// BytesUploaded and BytesDownloaded sum what peers reported sending
	// and receiving since the tracker started (see signaling.TypeAnnounce).
	BytesUploaded   int64 `json:"bytes_uploaded"`
	BytesDownloaded int64 `json:"bytes_downloaded"`
	// Nodes counts the trackers of the cluster that answered, this one
	// included; 1 alone.
	Nodes int `json:"nodes"`
	// Swarms lists the largest swarms first, at most MaxStatsSwarms.
	Swarms []swarmStats `json:"swarms"`
}

// swarmStats is one swarm in statsBody. Name comes from a peer: escape it.
type swarmStats struct {
	Digest      string      `json:"digest"`
	ShortDigest string      `json:"short_digest"`
	Name        string      `json:"name"`
	Size        int64       `json:"size"`
	Chunks      int         `json:"chunks"`
	Seeders     int         `json:"seeders"`
	Leechers    int         `json:"leechers"` // interested members included
	Peers       []peerStats `json:"peers"`    // seeders, then by progress; at most MaxStatsPeers
}

// peerStats is one member of a swarm in swarmStats.
type peerStats struct {
	ID         string  `json:"id"`   // the first 8 characters of the peer ID
	Name       string  `json:"name"` // from its hello (CleanName); escape it
	Node       string  `json:"node"` // the node it is connected to
	Have       int     `json:"have"`
	Complete   bool    `json:"complete"`
	Progress   float64 `json:"progress"` // 0 to 1
	Uploaded   int64   `json:"uploaded"`
	Downloaded int64   `json:"downloaded"`
}

// shortLen is how much of a digest or peer ID the dashboard shows.
const (
	shortDigestLen = 12
	shortPeerLen   = 8
)

// stats collects the figures the registry does not keep.
type stats struct {
	meter   meter
	history history
}

// snapshot returns the current statistics of the whole cluster, gathered
// on behalf of ctx.
func (t *Tracker) snapshot(ctx context.Context) statsBody {
	b := t.localStats()
	if !t.reg.clustered {
		t.stats.history.add(time.Now(), b)
		return b
	}
	ctx, cancel := t.clusterContext(ctx)
	defer cancel()
	replies, err := t.bus.AskAll(ctx, nil)
	if err != nil {
		t.log.Warn("tracker: gathering other nodes' statistics", "err", err)
	}
	others := make([]statsBody, 0, len(replies))
	for _, r := range replies {
		var o statsBody
		if json.Unmarshal(r, &o) == nil {
			others = append(others, o)
		}
	}
	b = mergeStats(b, others, t.opts.MaxStatsSwarms, t.opts.MaxStatsPeers)
	t.stats.history.add(time.Now(), b)
	return b
}

// localStats returns this node's statistics.
func (t *Tracker) localStats() statsBody {
	now := time.Now()
	b := t.reg.stats(t.opts.MaxStatsSwarms, t.opts.MaxStatsPeers)
	b.Started = t.started.UTC().Truncate(time.Second)
	b.UptimeSeconds = now.Sub(t.started).Truncate(time.Second).Seconds()
	b.MessagesPerSecond = t.stats.meter.rate(now)
	b.Nodes = 1
	return b
}

// stats renders the table for statsBody: counts, byte totals and up to
// maxSwarms swarms with up to maxPeers members each. What takes time, the
// sorting, happens outside the registry's lock: under it, the swarms are
// listed, then the chosen ones' members copied.
func (r *registry) stats(maxSwarms, maxPeers int) statsBody {
	type entry struct {
		d       swarm.Hash
		s       *swarmState
		members int
	}
	r.mu.Lock()
	b := statsBody{
		Peers:           len(r.peers),
		SwarmCount:      len(r.swarms),
		BytesUploaded:   r.uploaded,
		BytesDownloaded: r.downloaded,
	}
	all := make([]entry, 0, len(r.swarms))
	for d, s := range r.swarms {
		all = append(all, entry{d, s, len(s.members)})
	}
	r.mu.Unlock()

	slices.SortFunc(all, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.members, a.members), bytes.Compare(a.d[:], b.d[:]))
	})
	all = all[:min(len(all), maxSwarms)]
	b.Swarms = make([]swarmStats, 0, len(all))
	r.mu.Lock()
	for _, e := range all {
		if r.swarms[e.d] != e.s {
			continue // gone meanwhile
		}
		b.Swarms = append(b.Swarms, e.s.statsLocked(e.d))
	}
	r.mu.Unlock()
	for i := range b.Swarms {
		ss := &b.Swarms[i]
		sortPeerStats(ss.Peers)
		ss.Peers = slices.Clip(ss.Peers[:min(len(ss.Peers), maxPeers)])
	}
	return b
}

// statsLocked renders s, the swarm of d, with all its members, unsorted.
// The registry's lock is held.
func (s *swarmState) statsLocked(d swarm.Hash) swarmStats {
	digest := d.String()
	ss := swarmStats{
		Digest:      digest,
		ShortDigest: digest[:shortDigestLen],
		Name:        s.name,
		Size:        s.size,
		Chunks:      s.chunks,
		Peers:       make([]peerStats, 0, len(s.members)),
	}
	for id, m := range s.members {
		if m.complete {
			ss.Seeders++
		} else {
			ss.Leechers++
		}
		ss.Peers = append(ss.Peers, peerStats{
			ID:         id[:min(len(id), shortPeerLen)],
			Name:       m.p.name,
			Node:       peerNode(id),
			Have:       m.have,
			Complete:   m.complete,
			Progress:   float64(m.have) / float64(max(s.chunks, 1)),
			Uploaded:   max(m.uploaded, 0),
			Downloaded: max(m.downloaded, 0),
		})
	}
	return ss
}

// sortPeerStats sorts a swarm's members for statsBody: most chunks first.
func sortPeerStats(ps []peerStats) {
	slices.SortFunc(ps, func(a, b peerStats) int {
		return cmp.Or(cmp.Compare(b.Have, a.Have), cmp.Compare(a.ID, b.ID))
	})
}

// moved returns the reported byte totals.
func (r *registry) moved() (uploaded, downloaded int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.uploaded, r.downloaded
}

// meterSeconds is the window of the message rate.
const meterSeconds = 10

// meter counts events in one-second buckets and reports their rate over
// the last meterSeconds whole seconds. It needs no goroutine.
type meter struct {
	mu     sync.Mutex
	secs   [meterSeconds + 1]int64 // which second each bucket counts
	counts [meterSeconds + 1]int64
}

// add counts one event at now.
func (m *meter) add(now time.Time) {
	sec := now.Unix()
	i := int(uint64(sec) % uint64(len(m.secs)))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secs[i] != sec {
		m.secs[i], m.counts[i] = sec, 0
	}
	m.counts[i]++
}

// rate returns events per second over the meterSeconds whole seconds
// before now.
func (m *meter) rate(now time.Time) float64 {
	sec := now.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for i := range m.secs {
		if d := sec - m.secs[i]; d >= 1 && d <= meterSeconds {
			n += m.counts[i]
		}
	}
	return float64(n) / meterSeconds
}

// getStats answers GET /api/stats.
func (t *Tracker) getStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, t.snapshot(r.Context()))
}

// streamStats answers GET /api/stats/events: a Server-Sent Events stream
// with the statistics as one "stats" event every StatsInterval, until the
// client goes or the tracker shuts down.
func (t *Tracker) streamStats(w http.ResponseWriter, r *http.Request) {
	ip := clientKey(r)
	if err := t.admitStream(ip); err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, errPerIP) {
			status = http.StatusTooManyRequests
		}
		writeError(w, status, errorf(signaling.CodeRateLimited, "%v", err))
		return
	}
	defer t.releaseStream(ip)
	noDeadlines(w) // each event gets its own write deadline
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(t.opts.StatsInterval)
	defer tick.Stop()
	for {
		rc.SetWriteDeadline(time.Now().Add(t.opts.WriteTimeout))
		w.Write([]byte("event: stats\ndata: "))
		w.Write(mustMarshal(t.snapshot(r.Context())))
		w.Write([]byte("\n\n"))
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		case <-t.ctx.Done():
			return
		}
	}
}
