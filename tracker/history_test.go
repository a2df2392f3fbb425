package tracker

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestHistory checks the dashboard's samples: rates from the growth of the
// byte totals, at most one sample a second, a shrinking total read as a
// restart, and nothing older than historySpan.
func TestHistory(t *testing.T) {
	var h history
	t0 := time.Unix(1_000_000, 0)
	at := func(d time.Duration, up, down int64, peers int) {
		h.add(t0.Add(d), statsBody{BytesUploaded: up, BytesDownloaded: down, Peers: peers, SwarmCount: 1})
	}
	at(0, 100, 50, 1)
	at(500*time.Millisecond, 9999, 9999, 9) // under a second after: not kept
	at(2*time.Second, 100+4<<20, 50+2<<20, 2)
	at(4*time.Second, 10, 10, 2) // a restart: the totals shrank
	got := h.list()
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3: %+v", len(got), got)
	}
	if got[0].Up != 0 || got[1].Up != 2<<20 || got[1].Down != 1<<20 || got[1].Peers != 2 || got[2].Up != 0 {
		t.Errorf("samples %+v: want rates 0, 2 MiB/s up and 1 MiB/s down, then 0 after the restart", got)
	}
	at(historySpan+3*time.Second, 10+299*5, 10, 1) // 299 s after the restart
	got = h.list()
	if len(got) != 2 || got[0].T != t0.Add(4*time.Second).UnixMilli() || got[1].Up != 5 {
		t.Errorf("after %v: %+v, want the last two samples only, 5 B/s up", historySpan, got)
	}
}

// TestHistoryRoute checks that /api/stats/history lists the snapshots
// taken, and needs a private tracker's token.
func TestHistoryRoute(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{Token: "secret"})
	bearer := map[string]string{"Authorization": "Bearer secret"}
	if status, _, _ := httpGet(t, s.base+"/api/stats/history", nil); status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", status)
	}
	httpGet(t, s.base+"/api/stats", bearer)
	status, _, body := httpGet(t, s.base+"/api/stats/history", bearer)
	var samples []sample
	if err := json.Unmarshal(body, &samples); status != http.StatusOK || err != nil || len(samples) != 1 {
		t.Errorf("history: %d %s (%v), want one sample", status, body, err)
	}
}
