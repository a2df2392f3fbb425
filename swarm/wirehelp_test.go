package swarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"
)

// fakeClock is a file loop's clock that moves only when the test says.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// wire runs one file's loop, on a fake clock, and lets the test play its
// remote peers over in-memory Pipes: no pion, no tracker.
type wire struct {
	t     *testing.T
	f     *file
	m     *Manifest
	data  []byte
	lib   *MemLibrary
	clock *fakeClock
	ticks chan time.Time
	ctx   context.Context
}

// testData returns n chunks of MinChunkSize random bytes and their manifest.
func testData(n int, seed uint64) ([]byte, *Manifest) {
	data := make([]byte, n*MinChunkSize)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	var hashes []Hash
	for i := range n {
		hashes = append(hashes, HashChunk(data[i*MinChunkSize:(i+1)*MinChunkSize]))
	}
	return data, NewManifest("t.bin", "", int64(len(data)), hashes)
}

// newWire starts a file of data described by m that holds the chunks in
// have, stored in lib (a new MemLibrary when nil).
func newWire(t *testing.T, data []byte, m *Manifest, lib *MemLibrary, have ...int) *wire {
	t.Helper()
	return newWireStore(t, data, m, lib, nil, have...)
}

// newWireStore is newWire with the file's store wrapped by wrap, if not
// nil.
func newWireStore(t *testing.T, data []byte, m *Manifest, lib *MemLibrary, wrap func(Chunks) Chunks, have ...int) *wire {
	t.Helper()
	if lib == nil {
		lib = new(MemLibrary)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := lib.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range have {
		if err := store.WriteChunk(ctx, i, data[i*MinChunkSize:(i+1)*MinChunkSize]); err != nil {
			t.Fatal(err)
		}
	}
	bf, _ := store.Have(ctx)
	if wrap != nil {
		store = wrap(store)
	}
	w := &wire{t: t, m: m, data: data, lib: lib, clock: &fakeClock{t: time.Unix(1e9, 0)}, ticks: make(chan time.Time), ctx: ctx}
	w.f = newFile(m, store, bf, testLog())
	w.f.now, w.f.ticks = w.clock.Now, w.ticks
	go w.f.run(ctx)
	t.Cleanup(func() {
		cancel()
		<-w.f.stopped
	})
	return w
}

// advance moves the clock on by d and returns once the loop has ticked.
func (w *wire) advance(d time.Duration) {
	w.clock.mu.Lock()
	w.clock.t = w.clock.t.Add(d)
	now := w.clock.t
	w.clock.mu.Unlock()
	w.ticks <- now
	w.call(func() {})
}

// call runs fn on the file's loop and returns once it has run.
func (w *wire) call(fn func()) {
	done := make(chan struct{})
	w.f.events <- event{kind: evCall, fn: func() { fn(); close(done) }}
	<-done
}

// until polls cond on the file's loop until it holds, failing the test
// after 5 s.
func (w *wire) until(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		w.call(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// stored returns once chunk i is verified and stored: a peer that holds
// every chunk is sent no have to say so.
func (w *wire) stored(i int) {
	w.t.Helper()
	w.until(fmt.Sprint("chunk ", i, " stored"), func() bool { return w.f.pick.holds(i) })
}

// check fails the test if the picker's counts disagree with the requests
// the connections hold, or a request is out for a chunk the file has.
func (w *wire) check() {
	w.t.Helper()
	var bad []string
	w.call(func() {
		asked := make([]int, w.m.NumChunks())
		for _, c := range w.f.conns {
			for i := range c.asked {
				asked[i]++
				if !w.f.pick.wanted(i) {
					bad = append(bad, "a request is out for a chunk the file has or is checking")
				}
			}
		}
		for i, n := range asked {
			if w.f.pick.inflight[i] != n {
				bad = append(bad, "in-flight count differs from the requests asked")
			}
		}
	})
	for _, b := range bad {
		w.t.Error(b)
	}
}

// held returns the chunks the file's store holds.
func (w *wire) held() []int {
	w.t.Helper()
	store, _ := w.lib.Open(context.Background(), w.m)
	bf, _ := store.Have(context.Background())
	var out []int
	for i := range bf.Len() {
		if bf.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// remote is a peer the test plays by hand.
type remote struct {
	id    string
	t     *testing.T
	w     *wire
	tr    Transport
	asked []int // requests the file sent that the test has not taken yet
}

// connect attaches a new connection from peer id, opened by initiator.
func (w *wire) connect(id, initiator string) *remote { return w.connectPipe(id, initiator, 0) }

// connectPipe is connect over a pipe that buffers limit bytes each way.
func (w *wire) connectPipe(id, initiator string, limit int) *remote {
	return w.attach(Conn{Peer: id, Initiator: initiator}, limit)
}

// attach attaches c over a new pipe that buffers limit bytes each way, its
// far end the test's.
func (w *wire) attach(c Conn, limit int) *remote {
	return w.attachOver(c, limit, nil)
}

// attachOver is attach with the file's end of the pipe wrapped by wrap,
// if not nil.
func (w *wire) attachOver(c Conn, limit int, wrap func(Transport) Transport) *remote {
	a, b := Pipe(limit)
	if wrap != nil {
		a = wrap(a)
	}
	c.Transport = a
	id := c.Peer
	w.f.attach(w.ctx, newPeerConn(c))
	r := &remote{id: id, t: w.t, w: w, tr: b}
	w.t.Cleanup(func() { b.Close() })
	return r
}

func (r *remote) send(b []byte) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.tr.Send(ctx, b); err != nil {
		r.t.Fatalf("send: %v", err)
	}
}

// next returns the next frame the file sent, or the error that ended the
// connection.
func (r *remote) next() (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := r.tr.Recv(ctx)
	if err != nil {
		return frame{}, err
	}
	fr, err := decodeFrame(b)
	if err == nil && fr.Kind == kindRequest {
		r.asked = append(r.asked, fr.Index)
	}
	return fr, err
}

// expect reads frames until one of kind k, and returns it. Requests the
// file sent before come first, in order.
func (r *remote) expect(k kind) frame {
	r.t.Helper()
	if k == kindRequest && len(r.asked) > 0 {
		i := r.asked[0]
		r.asked = r.asked[1:]
		return frame{Kind: kindRequest, Index: i}
	}
	for {
		fr, err := r.next()
		if err != nil {
			r.t.Fatalf("waiting for %v: %v", k, err)
		}
		if fr.Kind == k {
			if k == kindRequest {
				r.asked = r.asked[:len(r.asked)-1]
			}
			return fr
		}
	}
}

// closed reports whether the file ended the connection (within 5 s).
func (r *remote) closed() bool {
	for {
		_, err := r.next()
		if errors.Is(err, ErrClosed) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// open says hello with the chunks in have and returns the file's hello,
// which comes first when the file dialled and in answer when the remote
// did.
func (r *remote) open(have ...int) frame {
	r.t.Helper()
	r.send(appendHello(nil, bitsOf(r.w.m.NumChunks(), have...)))
	return r.expect(kindHello)
}

// alive proves the connection is still up and every frame sent before was
// handled: it asks for chunk i and waits for the answer (a piece or a
// reject), skipping other frames.
func (r *remote) alive(i int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.tr.Send(ctx, appendIndex(nil, kindRequest, i)) != nil {
		return false
	}
	for {
		fr, err := r.next()
		if err != nil {
			return false
		}
		if (fr.Kind == kindPiece || fr.Kind == kindReject) && fr.Index == i {
			return true
		}
	}
}

// serve sends chunk i whole, block by block, as an honest peer does.
func (r *remote) serve(i int) {
	chunk := r.w.data[i*MinChunkSize : (i+1)*MinChunkSize]
	for off := 0; off < len(chunk); off += BlockSize {
		r.send(appendPiece(nil, i, off, chunk[off:off+BlockSize]))
	}
}

// testLog logs to stderr when TABSWARM_TEST_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("TABSWARM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return discardLogger()
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
