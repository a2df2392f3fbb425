package tracker

import (
	"net/http"
	"sync"
	"time"
)

// historySpan is how far back GET /api/stats/history reaches.
const historySpan = 5 * time.Minute

// sample is one point of the dashboard's charts.
type sample struct {
	T      int64   `json:"t"`    // Unix milliseconds
	Up     float64 `json:"up"`   // reported bytes sent per second since the sample before
	Down   float64 `json:"down"` // reported bytes received per second likewise
	Peers  int     `json:"peers"`
	Swarms int     `json:"swarms"`
}

// history keeps a sample of every statistics snapshot taken, at most one
// a second, for historySpan. It samples only when someone asks for the
// statistics (the dashboard's stream, pages polling /api/stats), so an
// idle tracker does no work for it; a rate after a quiet spell is the
// average over that spell.
type history struct {
	mu       sync.Mutex
	samples  []sample
	up, down int64 // the byte totals at the last sample
}

// add records b as seen at now.
func (h *history) add(now time.Time, b statsBody) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := sample{T: now.UnixMilli(), Peers: b.Peers, Swarms: b.SwarmCount}
	if n := len(h.samples); n > 0 {
		last := h.samples[n-1]
		if s.T-last.T < 1000 {
			return
		}
		secs := float64(s.T-last.T) / 1000
		// A total that shrank (a restarted cluster node) counts from zero.
		s.Up = float64(max(b.BytesUploaded-h.up, 0)) / secs
		s.Down = float64(max(b.BytesDownloaded-h.down, 0)) / secs
	}
	h.up, h.down = b.BytesUploaded, b.BytesDownloaded
	cut := 0
	for cut < len(h.samples) && h.samples[cut].T < s.T-historySpan.Milliseconds() {
		cut++
	}
	h.samples = append(h.samples[cut:], s)
}

// list returns a copy of the samples, oldest first.
func (h *history) list() []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]sample{}, h.samples...)
}

// getHistory answers GET /api/stats/history: the samples of the last
// historySpan, oldest first, so that the dashboard's charts start full.
func (t *Tracker) getHistory(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, t.stats.history.list())
}
