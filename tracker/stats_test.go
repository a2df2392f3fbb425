package tracker

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// getStatsBody fetches /api/stats.
func (s *server) getStatsBody(t *testing.T) statsBody {
	t.Helper()
	status, _, body := httpGet(t, s.base+"/api/stats", nil)
	var b statsBody
	if err := json.Unmarshal(body, &b); status != http.StatusOK || err != nil {
		t.Fatalf("/api/stats: %d %s %v", status, body, err)
	}
	return b
}

// TestQueryJoins: a query makes the asker an interested member that may
// signal, that no one is given as a holder, and that goes with the swarm.
func TestQueryJoins(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxSwarmsPerPeer: 1})
	f, g := newFile(t, 1<<20), newFile(t, 2<<20)
	seed, leech, other := s.dial(t), s.dial(t), s.dial(t)
	seed.mustOK(f.announce(1, 0, true))
	other.mustOK(g.announce(1, 0, true))
	if r := leech.request(signaling.Message{Type: signaling.TypeQuery, ID: 2, Digest: f.digest()}); !slices.Equal(peerIDs(r.Peers), []string{seed.id}) {
		t.Fatalf("query: %+v", r)
	}
	// Not a holder: not in replies, not in /api/files.
	if r := other.request(signaling.Message{Type: signaling.TypeQuery, ID: 3, Digest: f.digest()}); r.Type != signaling.TypeError {
		// other is at its one-swarm cap.
		t.Fatalf("query at the swarm cap: %+v, want rate_limited", r)
	}
	if _, fi := s.apiFile(t, f.digest()); !slices.Equal(peerIDs(fi.Peers), []string{seed.id}) {
		t.Errorf("/api/files lists %v, want only the seeder", peerIDs(fi.Peers))
	}
	st := s.getStatsBody(t)
	if i := slices.IndexFunc(st.Swarms, func(w swarmStats) bool { return w.Digest == f.digest() }); i < 0 || st.Swarms[i].Seeders != 1 || st.Swarms[i].Leechers != 1 {
		t.Errorf("stats %+v, want f with one seeder and one leecher", st.Swarms)
	}
	// It may offer to the seeder before announcing, and at its cap it may
	// not query another swarm.
	leech.mustOK(signaling.Message{Type: signaling.TypeSignal, ID: 4, To: seed.id, Digest: f.digest(), Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "x"}})
	wantError(t, leech.request(signaling.Message{Type: signaling.TypeQuery, ID: 5, Digest: g.digest()}), signaling.CodeRateLimited, 5)
	// Announcing makes it a holder, and news to the seeder? No: seeders
	// hear nothing. It is now listed.
	leech.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 6, Digest: f.digest(), Have: 1})
	if _, fi := s.apiFile(t, f.digest()); len(fi.Peers) != 2 {
		t.Errorf("after announcing: %v", fi.Peers)
	}
	// When the last holder goes, so does the swarm and the interest in it.
	leech.mustOK(signaling.Message{Type: signaling.TypeLeave, ID: 7, Digest: f.digest()})
	third := s.dial(t)
	third.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: f.digest()})
	seed.ws.CloseNow()
	eventually(t, "f's swarm to go", func() bool {
		status, _ := s.apiFile(t, f.digest())
		return status == http.StatusNotFound
	})
	if snap := s.reg.snapshot(); !strings.Contains(snap, "peer "+third.id+" in []") {
		t.Errorf("the interested peer is still in a swarm:\n%s", snap)
	}
}

func TestStatsAndDashboard(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	cs := swarm.ChunkSize(3 << 20)
	chunks := make([]swarm.Hash, (3<<20+cs-1)/cs)
	for i := range chunks {
		chunks[i][0] = byte(i + 1)
	}
	m := swarm.NewManifest(evil, "text/html", 3<<20, chunks)
	raw, _ := json.Marshal(m)
	f := testFile{m: m, raw: raw}
	seed, leech := s.dial(t), s.dial(t)
	seed.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 1, Digest: f.digest(), Manifest: raw, Complete: true, Uploaded: 1000})
	leech.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 1, Digest: f.digest(), Have: 1, Downloaded: 50})
	// Counters count from their first sight: 1000 and 50 are bases.
	seed.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 2, Digest: f.digest(), Complete: true, Uploaded: 1500})
	leech.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 2, Digest: f.digest(), Have: 2, Downloaded: 550})
	leech.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 3, Digest: f.digest(), Have: 2, Downloaded: 100}) // a reset: new base
	leech.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 4, Digest: f.digest(), Have: 2, Downloaded: 150})

	st := s.getStatsBody(t)
	if st.Peers != 2 || st.SwarmCount != 1 || len(st.Swarms) != 1 || st.BytesUploaded != 500 || st.BytesDownloaded != 550 {
		t.Fatalf("stats %+v", st)
	}
	w := st.Swarms[0]
	if w.Name != evil || w.Size != 3<<20 || w.ShortDigest != f.digest()[:12] || w.Seeders != 1 || w.Leechers != 1 || len(w.Peers) != 2 {
		t.Fatalf("swarm %+v", w)
	}
	if p := w.Peers[1]; p.ID != leech.id[:8] || p.Have != 2 || p.Progress != 2/float64(len(chunks)) || p.Downloaded != 150 {
		t.Errorf("leecher %+v", p)
	}
	if st.UptimeSeconds < 0 || st.Started.IsZero() {
		t.Errorf("uptime %v since %v", st.UptimeSeconds, st.Started)
	}
	eventually(t, "a message rate", func() bool { return s.getStatsBody(t).MessagesPerSecond > 0 })

	status, h, page := httpGet(t, s.base+"/stats", nil)
	html := string(page)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("/stats: %d %s", status, h.Get("Content-Type"))
	}
	if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") || !strings.Contains(html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the name is not escaped:\n%s", html)
	}
	if strings.Count(html, "<script") != 2 || !strings.Contains(html, `<script src="format.js" defer></script>
<script src="stats/dashboard.js" defer></script>`) || strings.Contains(html, "style=") || strings.Contains(html, " on") && strings.Contains(html, "onerror=alert(1)>") {
		t.Errorf("/stats has inline code or style:\n%s", html)
	}
	if !strings.Contains(html, leech.id[:8]) || !strings.Contains(html, "1 seeders") {
		t.Errorf("/stats lacks the peers:\n%s", html)
	}
	if status, h, js := httpGet(t, s.base+"/stats/dashboard.js", nil); status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") || strings.Contains(string(js), "innerHTML") {
		t.Errorf("dashboard.js: %d %s (innerHTML is not allowed)", status, h.Get("Content-Type"))
	}
}

// TestStatsBounded: /api/stats lists at most MaxStatsSwarms swarms, the
// largest first, each with at most MaxStatsPeers peers.
func TestStatsBounded(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxStatsSwarms: 2, MaxStatsPeers: 1})
	files := []testFile{newFile(t, 1), newFile(t, 2), newFile(t, 3)}
	for i, f := range files {
		for range i + 1 {
			s.dial(t).mustOK(f.announce(1, 0, true))
		}
	}
	st := s.getStatsBody(t)
	if st.SwarmCount != 3 || len(st.Swarms) != 2 || st.Swarms[0].Digest != files[2].digest() || st.Swarms[1].Digest != files[1].digest() {
		t.Fatalf("swarms %+v", st.Swarms)
	}
	if len(st.Swarms[0].Peers) != 1 || st.Swarms[0].Seeders != 3 {
		t.Errorf("largest swarm %+v, want 3 seeders, 1 listed", st.Swarms[0])
	}
}

func TestStatsStream(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{StatsInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/stats/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	events := 0
	for events < 3 && sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var b statsBody
			if err := json.Unmarshal([]byte(data), &b); err != nil || b.Swarms == nil {
				t.Fatalf("event %q: %v", data, err)
			}
			events++
		}
	}
	if events < 3 {
		t.Fatalf("%d events: %v", events, sc.Err())
	}
	// Shutting down ends the stream at once rather than waiting for it.
	start := time.Now()
	s.stop()
	for sc.Scan() {
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a stream open", d)
	}
}

// Stats streams are bounded per address and in all: one address holding
// its share leaves the rest to others.
func TestStatsStreamsBounded(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{MaxStatsStreams: 2, MaxStatsStreamsPerIP: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(from string) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/stats/events", nil)
		resp, err := clientFrom(from).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			t.Cleanup(func() { resp.Body.Close() })
			return resp.StatusCode, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	for _, c := range []struct {
		from string
		want int
	}{
		{"127.0.0.1", http.StatusOK},
		{"127.0.0.1", http.StatusTooManyRequests}, // its share
		{"127.0.0.2", http.StatusOK},
		{"127.0.0.3", http.StatusServiceUnavailable}, // the whole tracker's
	} {
		status, body := open(c.from)
		if status != c.want || (status != http.StatusOK && errorCode(body) != signaling.CodeRateLimited) {
			t.Errorf("stream from %s: %d %s, want %d", c.from, status, body, c.want)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 1<<20)
	a := s.dial(t)
	a.mustOK(f.announce(1, 0, true))
	a.sendRaw([]byte("garbage"))
	a.recv()
	if status, _, body := httpGet(t, s.base+"/healthz", nil); status != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("/healthz: %d %s", status, body)
	}
	status, h, body := httpGet(t, s.base+"/metrics", nil)
	text := string(body)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", status, h.Get("Content-Type"))
	}
	for _, want := range []string{
		"tabswarm_peers 1\n",
		"tabswarm_swarms 1\n",
		`tabswarm_signalling_messages_total{type="announce"} 1`,
		`tabswarm_signalling_messages_total{type="other"} 1`,
		`tabswarm_signalling_errors_total{code="bad_message"} 1`,
		"tabswarm_uptime_seconds ",
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
