package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/rtc"
	"tabswarm/swarm/swarmtest"
)

// trackerAddr returns the tracker's loopback host:port; a native peer dials
// it directly, not through the browser's name for it.
func (e *env) trackerAddr(tb testing.TB) string {
	tb.Helper()
	u, err := url.Parse(e.base)
	if err != nil {
		tb.Fatal(err)
	}
	return "127.0.0.1:" + u.Port()
}

// startLiar runs a native peer that seeds f with corrupted chunks until the
// test ends, and returns it once the tracker lists it for f.
func (e *env) startLiar(tb testing.TB, f testFile) *swarm.Node {
	tb.Helper()
	data, err := os.ReadFile(f.path)
	if err != nil {
		tb.Fatal(err)
	}
	lib := new(swarmtest.LyingLibrary)
	ctx, cancel := context.WithCancel(context.Background())
	m := swarm.NewManifest(f.name, "application/octet-stream", f.size, swarm.HashRun(nil, data, swarm.ChunkSize(f.size)))
	if m.Digest.String() != f.digest {
		tb.Fatalf("liar's manifest has digest %s, want %s", m.Digest, f.digest)
	}
	store, err := lib.MemLibrary.Open(ctx, m)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range m.NumChunks() {
		off := int64(i) * m.ChunkSize
		if err := store.WriteChunk(ctx, i, data[off:off+int64(m.ChunkLen(i))]); err != nil {
			tb.Fatal(err)
		}
	}

	addr := e.trackerAddr(tb)
	logger := slog.New(slog.NewTextHandler(e.log.writer("liar"), &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := swarm.NewNode(swarm.Options{Connector: rtc.New(rtc.Options{Tracker: "ws://" + addr + "/ws", Logger: logger}), Library: lib, Logger: logger})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := n.Run(ctx); err != nil && ctx.Err() == nil {
			e.log.logf("liar: Run: %v", err)
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})

	// Wait until the tracker lists the file, so that a Get finds it.
	api := "http://" + addr + "/api/files/" + f.digest
	err = poll(ctx, stepTimeout, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		code, err := httpStatus(ctx, api)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", api, http.StatusText(code))
		}
		return err == nil, err
	})
	if err != nil {
		tb.Fatalf("the tracker never listed the liar's file: %v", err)
	}
	return n
}

// TestSwarmLyingPeer is issue 3's test 5: a native Go peer that corrupts
// every chunk it serves seeds the file first and alone, so the leecher must
// ask it; the leecher drops and bans it and stalls. Then an honest tab
// shares the file, and the download ends byte-identical without the liar.
func TestSwarmLyingPeer(t *testing.T) {
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "liar-4MiB.bin", 4<<20)
	liar := e.startLiar(t, f)
	liarID := liar.PeerID()
	t.Logf("the liar is peer %s", liarID)

	hugo := e.newPerson(t, "hugo", "/")
	hugo.pressGet(t, f.digest)
	caught := hugo.waitFile(t, "the liar banned and the download stalled", f.digest, statsPoll, time.Minute, func(fs swarm.FileStats) bool {
		p, ok := peerStats(fs, liarID)
		return ok && p.Banned != "" && fs.State == swarm.StateStalled
	})
	t.Logf("hugo caught the liar: %s", fileText(caught))
	if caught.Have != 0 {
		t.Errorf("hugo stored %d chunks while only the liar was online", caught.Have)
	}
	hugo.waitRow(t, "download with only the liar online", byDigest(f.digest), stateStalled, stepTimeout)

	ivy := e.newPerson(t, "ivy", "/")
	dumpOnFailure(t, hugo, ivy)
	ivy.share(t, f)
	hugo.waitRow(t, "download once an honest seeder is online", byDigest(f.digest), stateSeeding, downloadTimeout(f.size))
	fs, _ := hugo.mustStats(t).file(f.digest)
	t.Logf("hugo at the end: %s", fileText(fs))
	p, ok := peerStats(fs, liarID)
	switch {
	case !ok:
		t.Errorf("hugo's stats forgot the liar %s", liarID)
	case p.Banned == "" || p.Connected || p.Chunks != 0:
		t.Errorf("the liar was not dropped for good: %+v", p)
	}
	checkSaved(t, hugo.name, f, hugo.save(t, f.digest, f.size))
}
