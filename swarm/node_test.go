//go:build !js

package swarm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/rtc"
	"tabswarm/swarm/swarmtest"
	"tabswarm/tracker"
)

// startTracker serves a real tracker on loopback and returns its /ws URL.
func startTracker(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trk := tracker.New(tracker.Options{Logger: testLogger(t)})
	srv := &http.Server{Handler: trk.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		trk.Close()
	})
	return "ws://" + ln.Addr().String() + "/ws"
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TABSWARM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// seedBytes stores data in lib as a complete file and returns its manifest.
func seedBytes(t testing.TB, lib swarm.Library, name string, data []byte) *swarm.Manifest {
	t.Helper()
	ctx := context.Background()
	cs := swarm.ChunkSize(int64(len(data)))
	hashes := swarm.HashRun(nil, data, cs)
	m := swarm.NewManifest(name, "application/octet-stream", int64(len(data)), hashes)
	store, err := lib.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hashes {
		off := int64(i) * cs
		if err := store.WriteChunk(ctx, i, data[off:min(off+cs, int64(len(data)))]); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// startNode runs a node until the test ends and waits for its tracker
// connection.
func startNode(t testing.TB, url string, lib swarm.Library) *swarm.Node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := swarm.NewNode(swarm.Options{Connector: rtc.New(rtc.Options{Tracker: url, Logger: testLogger(t)}), Library: lib, Logger: testLogger(t), QueryInterval: 500 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := n.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return n
}

// startSeeder runs a node that seeds data as name, and returns once the
// tracker lists it.
func startSeeder(t testing.TB, url, name string, data []byte) (*swarm.Manifest, *swarm.Node) {
	t.Helper()
	lib := new(swarm.MemLibrary)
	m := seedBytes(t, lib, name, data)
	n := startNode(t, url, lib)
	waitState(t, n, m.Digest, swarm.StateSeeding, 5*time.Second)
	waitAnnounced(t, url, m.Digest)
	return m, n
}

// waitState polls until file d reaches state want on n.
func waitState(t testing.TB, n *swarm.Node, d swarm.Hash, want swarm.State, timeout time.Duration) swarm.FileStats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var s swarm.FileStats
	for time.Now().Before(deadline) {
		var ok bool
		if s, ok = n.File(d); ok && s.State == want {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("file %s: state %q (%d/%d chunks, err %q), want %q", d.String()[:12], s.State, s.Have, s.Chunks, s.Error, want)
	return s
}

// waitAnnounced polls the tracker's HTTP API until some peer holds d.
func waitAnnounced(t testing.TB, wsURL string, d swarm.Hash) {
	t.Helper()
	u := "http" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws"), "/ws") + "/api/files/" + d.String()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
	}
	t.Fatalf("tracker never learnt of %s", d)
}

// readAll returns the file's bytes from lib.
func readAll(t testing.TB, lib swarm.Library, m *swarm.Manifest) []byte {
	t.Helper()
	store, err := lib.Open(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for i := range m.NumChunks() {
		b, err := store.ReadChunk(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestNodeDownload(t *testing.T) {
	url := startTracker(t)
	for _, size := range []int{0, 1, swarm.MinChunkSize, swarm.MinChunkSize + 1, 3<<20 + 12345} {
		data := randomBytes(size, uint64(size))
		seedLib := new(swarm.MemLibrary)
		m := seedBytes(t, seedLib, "f.bin", data)
		seeder := startNode(t, url, seedLib)
		waitState(t, seeder, m.Digest, swarm.StateSeeding, 5*time.Second)
		waitAnnounced(t, url, m.Digest)

		getLib := new(swarm.MemLibrary)
		getter := startNode(t, url, getLib)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got, err := getter.Get(ctx, m.Digest)
		cancel()
		if err != nil {
			t.Fatalf("size %d: get: %v", size, err)
		}
		if got.Name != "f.bin" || got.Size != int64(size) {
			t.Fatalf("size %d: manifest %+v", size, got)
		}
		waitState(t, getter, m.Digest, swarm.StateSeeding, 30*time.Second)
		if !bytes.Equal(readAll(t, getLib, m), data) {
			t.Fatalf("size %d: downloaded bytes differ", size)
		}
	}
}

func TestNodeGetUnknownDigest(t *testing.T) {
	url := startTracker(t)
	n := startNode(t, url, new(swarm.MemLibrary))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := n.Get(ctx, swarm.Hash{1, 2, 3})
	if !errors.Is(err, swarm.ErrNoPeers) {
		t.Fatalf("err = %v, want ErrNoPeers", err)
	}
}

func TestNodeDropsLyingPeer(t *testing.T) {
	url := startTracker(t)
	data := randomBytes(2<<20, 7)
	liarLib := new(swarmtest.LyingLibrary)
	m := seedBytes(t, &liarLib.MemLibrary, "f.bin", data)
	liar := startNode(t, url, liarLib)
	waitState(t, liar, m.Digest, swarm.StateSeeding, 5*time.Second)
	waitAnnounced(t, url, m.Digest)

	// With only the liar online, the getter must try it, catch the bad
	// chunk, drop it, and stall.
	getLib := new(swarm.MemLibrary)
	getter := startNode(t, url, getLib)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := getter.Get(ctx, m.Digest); err != nil {
		t.Fatal(err)
	}
	s := waitState(t, getter, m.Digest, swarm.StateStalled, 20*time.Second)
	if s.Have != 0 {
		t.Fatalf("stored %d chunks from the liar", s.Have)
	}
	banned := false
	for _, p := range s.Peers {
		banned = banned || (p.ID == liar.PeerID() && strings.Contains(p.Banned, "verification"))
	}
	if !banned {
		t.Fatalf("liar not banned: %+v", s.Peers)
	}

	// An honest seeder appears: the tracker tells the getter, which
	// finishes from it and never goes back to the liar.
	honestLib := new(swarm.MemLibrary)
	seedBytes(t, honestLib, "f.bin", data)
	startNode(t, url, honestLib)
	s = waitState(t, getter, m.Digest, swarm.StateSeeding, 30*time.Second)
	if !bytes.Equal(readAll(t, getLib, m), data) {
		t.Fatal("downloaded bytes differ")
	}
	for _, p := range s.Peers {
		if p.ID == liar.PeerID() && (p.Connected || p.Chunks != 0) {
			t.Fatalf("liar %+v still used", p)
		}
	}
}

func TestNodeQuotaErrorIsClearAndKeepsChunks(t *testing.T) {
	url := startTracker(t)
	m, seeder := startSeeder(t, url, "big.bin", randomBytes(3*swarm.MinChunkSize, 3))

	getLib := &swarm.MemLibrary{Limit: 2 * swarm.MinChunkSize}
	getter := startNode(t, url, getLib)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := getter.Get(ctx, m.Digest); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := getter.Wait(wctx, m.Digest); !errors.Is(err, swarm.ErrQuota) {
		t.Fatalf("Wait = %v, want an error wrapping ErrQuota", err)
	}
	if err := getter.Err(m.Digest); !errors.Is(err, swarm.ErrQuota) {
		t.Fatalf("Err = %v, want an error wrapping ErrQuota", err)
	}
	s := waitState(t, getter, m.Digest, swarm.StateError, time.Second)
	if !strings.Contains(s.Error, "storage full") {
		t.Fatalf("error %q does not say storage is full", s.Error)
	}
	// A write that fitted may finish after the one that did not: the
	// count reaches 2 then, and stays.
	for deadline := time.Now().Add(5 * time.Second); s.Have < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s, _ = getter.File(m.Digest)
	}
	if s.Have != 2 {
		t.Fatalf("kept %d chunks, want the 2 that fitted", s.Have)
	}
	store, _ := getLib.Open(ctx, m)
	have, _ := store.Have(ctx)
	for i := range m.NumChunks() {
		if have.Has(i) {
			b, _ := store.ReadChunk(ctx, i)
			if swarm.HashChunk(b) != m.Chunks[i] {
				t.Fatalf("chunk %d corrupted", i)
			}
		}
	}
	if s, _ := seeder.File(m.Digest); s.State != swarm.StateSeeding {
		t.Fatalf("seeder state %q", s.State)
	}
}

// TestNodeLifecycle: Run runs once; Wait reports completion, removal and a
// stopped node with their own errors; a subscriber hears of a new file;
// Run returns only after the last chunk write is done.
func TestNodeLifecycle(t *testing.T) {
	url := startTracker(t)
	m, seeder := startSeeder(t, url, "f.bin", randomBytes(2*swarm.MinChunkSize, 9))
	if err := seeder.Run(context.Background()); !errors.Is(err, swarm.ErrRunning) {
		t.Fatalf("second Run = %v, want ErrRunning", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := seeder.Wait(ctx, m.Digest); err != nil {
		t.Fatalf("Wait for a complete file = %v", err)
	}
	if err := seeder.Wait(ctx, swarm.Hash{7}); !errors.Is(err, swarm.ErrNotFound) {
		t.Fatalf("Wait for an unknown file = %v, want ErrNotFound", err)
	}

	// A getter whose store holds each write until the test lets it go.
	lib := &slowLibrary{release: make(chan struct{}), writing: make(chan struct{}, 8)}
	node := swarm.NewNode(swarm.Options{Connector: rtc.New(rtc.Options{Tracker: url}), Library: lib})
	changes, unsubscribe := node.Subscribe()
	defer unsubscribe()
	rctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- node.Run(rctx) }()
	waited := make(chan error, 1)
	go func() {
		if _, err := node.Get(ctx, m.Digest); err != nil {
			waited <- err
			return
		}
		waited <- node.Wait(context.Background(), m.Digest)
	}()
	select {
	case <-changes:
	case <-ctx.Done():
		t.Fatal("no change notification for a new file")
	}
	select {
	case <-lib.writing:
	case <-ctx.Done():
		t.Fatal("no chunk write began")
	}
	stop()
	select {
	case err := <-ran:
		t.Fatalf("Run returned (%v) while a chunk write was under way", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(lib.release)
	if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if lib.active.Load() != 0 {
		t.Fatal("Run returned before the last write ended")
	}
	if err := <-waited; !errors.Is(err, swarm.ErrClosed) {
		t.Fatalf("Wait on a stopped node = %v, want ErrClosed", err)
	}

	// Remove ends a wait with ErrRemoved: a file nobody holds. Should the
	// removal come before the wait begins, Wait says ErrNotFound; then try
	// again with a longer head start.
	getter := startNode(t, url, new(swarm.MemLibrary))
	orphan := seedBytes(t, new(swarm.MemLibrary), "orphan.bin", randomBytes(100, 10))
	var err error
	for try := 1; try <= 5; try++ {
		if _, err := getter.Add(ctx, orphan); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(time.Duration(try) * 50 * time.Millisecond)
			getter.Remove(context.Background(), orphan.Digest)
		}()
		if err = getter.Wait(ctx, orphan.Digest); !errors.Is(err, swarm.ErrNotFound) {
			break
		}
		for getter.Manifest(orphan.Digest) != nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !errors.Is(err, swarm.ErrRemoved) {
		t.Fatalf("Wait for a removed file = %v, want ErrRemoved", err)
	}
}

// slowLibrary is a MemLibrary whose writes wait for release, and report
// that they started on writing.
type slowLibrary struct {
	swarm.MemLibrary
	release chan struct{}
	writing chan struct{}
	active  atomic.Int32
}

func (l *slowLibrary) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	c, err := l.MemLibrary.Open(ctx, m)
	return slowChunks{c, l}, err
}

type slowChunks struct {
	swarm.Chunks
	l *slowLibrary
}

func (c slowChunks) WriteChunk(ctx context.Context, i int, data []byte) error {
	c.l.active.Add(1)
	defer c.l.active.Add(-1)
	select {
	case c.l.writing <- struct{}{}:
	default:
	}
	<-c.l.release
	return c.Chunks.WriteChunk(ctx, i, data)
}
