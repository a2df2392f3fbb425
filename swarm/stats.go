package swarm

import "sort"

// Stats is a snapshot of a node, as window.tabswarm.stats() returns it.
type Stats struct {
	PeerID      string            `json:"peer_id"`
	Files       []FileStats       `json:"files"`
	Collections []CollectionStats `json:"collections"`
}

// FileStats is a snapshot of one file.
type FileStats struct {
	Digest   string      `json:"digest"`
	Name     string      `json:"name"`
	Type     string      `json:"type,omitempty"`
	Size     int64       `json:"size"`
	State    State       `json:"state"`
	Error    string      `json:"error,omitempty"`
	Chunks   int         `json:"chunks"`
	Have     int         `json:"have"`
	Received int64       `json:"received"`  // payload bytes from all peers
	Sent     int64       `json:"sent"`      // payload bytes to all peers
	DownRate float64     `json:"down_rate"` // bytes per second
	UpRate   float64     `json:"up_rate"`
	Peers    []PeerStats `json:"peers"` // every peer met, connected or not
	// Map is the chunk map: per chunk, 0 when missing, 1 when it was here
	// before, or k+2 when it came from Sources[k].
	Map     []int    `json:"map"`
	Sources []string `json:"sources"`
}

// PeerStats is what one remote peer did for one file.
type PeerStats struct {
	ID        string  `json:"id"`
	Connected bool    `json:"connected"`
	Received  int64   `json:"received"` // bytes from the peer
	Sent      int64   `json:"sent"`     // bytes to the peer
	Chunks    int     `json:"chunks"`   // verified chunks from the peer
	DownRate  float64 `json:"down_rate"`
	UpRate    float64 `json:"up_rate"`
	Banned    string  `json:"banned,omitempty"`
}

// tally folds a departing connection's byte counts into the totals.
func (f *file) tally(c *peerConn) {
	t := f.totals[c.id]
	t.Received += c.bytesIn.Load()
	t.Sent += c.bytesOut.Load()
	c.bytesIn.Store(0)
	c.bytesOut.Store(0)
}

// publish stores a fresh snapshot for Stats to read without locking.
func (f *file) publish() {
	s := &FileStats{
		Digest:  f.m.Digest.String(),
		Name:    f.m.Name,
		Type:    f.m.Type,
		Size:    f.m.Size,
		State:   f.state,
		Error:   f.errMsg,
		Chunks:  f.m.NumChunks(),
		Have:    f.pick.held(),
		Map:     append([]int(nil), f.source...),
		Sources: append([]string(nil), f.sourceIDs...),
	}
	f.mu.Lock()
	for id, t := range f.totals {
		p := *t
		if c := f.conns[id]; c != nil {
			p.Connected = true
			p.Received += c.bytesIn.Load()
			p.Sent += c.bytesOut.Load()
			p.DownRate, p.UpRate = c.rateIn, c.rateOut
		}
		p.Banned = f.banned[id]
		s.Received += p.Received
		s.Sent += p.Sent
		s.DownRate += p.DownRate
		s.UpRate += p.UpRate
		s.Peers = append(s.Peers, p)
	}
	f.mu.Unlock()
	sort.Slice(s.Peers, func(i, j int) bool { return s.Peers[i].ID < s.Peers[j].ID })
	old := f.stats.Swap(s)
	if f.onChange != nil && (old == nil || !old.same(s)) {
		f.onChange()
	}
}

// same reports whether s and o show the same thing, apart from the chunk
// map, which changes only with Have.
func (s *FileStats) same(o *FileStats) bool {
	if s.State != o.State || s.Error != o.Error || s.Have != o.Have || s.Received != o.Received ||
		s.Sent != o.Sent || s.DownRate != o.DownRate || s.UpRate != o.UpRate || len(s.Peers) != len(o.Peers) {
		return false
	}
	for i := range s.Peers {
		if s.Peers[i] != o.Peers[i] {
			return false
		}
	}
	return true
}
