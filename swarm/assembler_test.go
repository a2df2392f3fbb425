package swarm

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// goAssembler is an Assembler over a Pipe end that assembles in Go by the
// rules the page's receive pump follows in JS (static/pump.js), so the
// engine's side of the contract is tested natively; the pump itself is
// tested in Chromium (e2e).
type goAssembler struct {
	Transport
	mu       sync.Mutex
	want     map[int]*goAssembly
	forgot   []int
	expected []int
}

type goAssembly struct {
	size, next int
	stale      bool
	data       []byte
}

func newGoAssembler(t Transport) *goAssembler {
	return &goAssembler{Transport: t, want: make(map[int]*goAssembly)}
}

func (a *goAssembler) Expect(i, size int, stale bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.want[i] = &goAssembly{size: size, stale: stale}
	a.expected = append(a.expected, i)
}

func (a *goAssembler) Forget(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.want, i)
	a.forgot = append(a.forgot, i)
}

func (a *goAssembler) Next(ctx context.Context) (Received, error) {
	for {
		b, err := a.Recv(ctx)
		if err != nil {
			return Received{}, err
		}
		if r, ok := a.offer(b); ok {
			return r, nil
		}
	}
}

// offer takes b if it is a block of an expected chunk. It reports false
// for a block it drops (a stale tail), which has no news to return.
func (a *goAssembler) offer(b []byte) (Received, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fr, err := decodeFrame(b)
	if err != nil || fr.Kind != kindPiece || a.want[fr.Index] == nil {
		return Received{Msg: b}, true
	}
	i, c := fr.Index, a.want[fr.Index]
	if c.stale && c.next == 0 && fr.Offset > 0 {
		return Received{}, false
	}
	if fr.Offset != c.next || len(fr.Data) != min(BlockSize, c.size-c.next) {
		delete(a.want, i)
		err := fmt.Errorf("%w: block at %d of chunk %d, want %d", ErrProtocol, fr.Offset, i, c.next)
		return Received{Chunk: &Assembled{Index: i, Err: err}}, true
	}
	c.data = append(c.data, fr.Data...)
	c.next += len(fr.Data)
	if c.next < c.size {
		return Received{Taken: len(fr.Data)}, true
	}
	delete(a.want, i)
	return Received{Chunk: &Assembled{Index: i, Digest: HashChunk(c.data), Body: c.data}, Taken: len(fr.Data)}, true
}

func (a *goAssembler) log() (expected, forgot []int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.expected), slices.Clone(a.forgot)
}

// bodyStore is a store that can take an Assembler's bodies and give a
// ChunkSender its chunks as bodies (here, the chunk's bytes), counting
// them.
type bodyStore struct {
	Chunks
	mu     sync.Mutex
	bodies []int // written
	read   []int
}

func (s *bodyStore) ReadBody(ctx context.Context, i int) (any, error) {
	s.mu.Lock()
	s.read = append(s.read, i)
	s.mu.Unlock()
	return s.ReadChunk(ctx, i)
}

func (s *bodyStore) WriteBody(ctx context.Context, i int, body any) error {
	s.mu.Lock()
	s.bodies = append(s.bodies, i)
	s.mu.Unlock()
	return s.WriteChunk(ctx, i, body.([]byte))
}

func (s *bodyStore) written() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.bodies))
}

// newAssemblingWire starts a file whose store takes bodies, and returns
// it with the store.
func newAssemblingWire(t *testing.T, data []byte, m *Manifest, have ...int) (*wire, *bodyStore) {
	var bs *bodyStore
	w := newWireStore(t, data, m, nil, func(c Chunks) Chunks {
		bs = &bodyStore{Chunks: c}
		return bs
	}, have...)
	return w, bs
}

// connectAssembling attaches remote id, which dialled, over an assembling
// pipe.
func (w *wire) connectAssembling(id string) (*remote, *goAssembler) {
	var a *goAssembler
	r := w.attachOver(Conn{Peer: id, Initiator: id}, 0, func(t Transport) Transport {
		a = newGoAssembler(t)
		return a
	})
	return r, a
}

// TestAssemblerChunksStored: over an Assembler, every chunk asked for is
// Expected with its size, comes back assembled and is stored through the
// store's WriteBody, and the stored bytes are the file's.
func TestAssemblerChunksStored(t *testing.T) {
	data, m := testData(4, 1)
	w, bs := newAssemblingWire(t, data, m)
	src, asm := w.connectAssembling("s")
	src.open(0, 1, 2, 3)
	for range 4 {
		i := src.expect(kindRequest).Index
		src.serve(i)
		w.stored(i)
	}
	if got := bs.written(); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("stored through WriteBody: %v, want every chunk", got)
	}
	if exp, _ := asm.log(); len(exp) != 4 {
		t.Errorf("Expected %v, want the 4 chunks", exp)
	}
	for i := range 4 {
		got, err := bs.ReadChunk(context.Background(), i)
		if err != nil || !bytes.Equal(got, data[i*MinChunkSize:(i+1)*MinChunkSize]) {
			t.Errorf("chunk %d stored wrong (err %v)", i, err)
		}
	}
	var accepted int64
	w.call(func() { accepted = w.f.delivered(w.f.conns["s"]) })
	if accepted != int64(len(data)) {
		t.Errorf("peer credited with %d bytes taken, want %d", accepted, len(data))
	}
}

// TestAssemblerWrongDigestBans: a chunk the Assembler assembled whose
// digest does not match the manifest is not stored, and its peer is
// banned, as one whose blocks came as frames.
func TestAssemblerWrongDigestBans(t *testing.T) {
	data, m := testData(2, 1)
	w, bs := newAssemblingWire(t, data, m)
	liar, _ := w.connectAssembling("liar")
	liar.open(0, 1)
	i := liar.expect(kindRequest).Index
	bad := bytes.Repeat([]byte{7}, BlockSize)
	for off := 0; off < MinChunkSize; off += BlockSize {
		liar.send(appendPiece(nil, i, off, bad))
	}
	if !liar.closed() {
		t.Fatal("the liar's connection stayed up")
	}
	if got := bs.written(); len(got) != 0 || len(w.held()) != 0 {
		t.Errorf("stored %v (held %v) from a liar", got, w.held())
	}
	w.f.mu.Lock()
	why := w.f.banned["liar"]
	w.f.mu.Unlock()
	if why == "" {
		t.Error("the liar is not banned")
	}
}

// TestAssemblerErrorDrops: an Assembler's report of a block out of order
// drops the connection with a protocol error, stores nothing, and the
// chunk goes back to be asked of another peer.
func TestAssemblerErrorDrops(t *testing.T) {
	data, m := testData(1, 1)
	w, bs := newAssemblingWire(t, data, m)
	bad, _ := w.connectAssembling("bad")
	bad.open(0)
	bad.expect(kindRequest)
	bad.send(appendPiece(nil, 0, BlockSize, data[BlockSize:2*BlockSize])) // skips the first block
	if !bad.closed() {
		t.Fatal("the connection stayed up after a block out of order")
	}
	good, _ := w.connectAssembling("good")
	good.open(0)
	good.serve(good.expect(kindRequest).Index)
	w.stored(0)
	if got := bs.written(); !slices.Equal(got, []int{0}) {
		t.Errorf("stored %v, want chunk 0 once, from the good peer", got)
	}
}

// TestAssemblerForgetsWithdrawn: a chunk one peer delivers is withdrawn
// from the other it was also asked of (Forget, with a cancel on the
// wire), and that peer's late blocks are ignored; asked again after,
// it is Expected as stale.
func TestAssemblerForgetsWithdrawn(t *testing.T) {
	data, m := testData(1, 1)
	w, _ := newAssemblingWire(t, data, m)
	slow, asmSlow := w.connectAssembling("slow")
	slow.open(0)
	slow.expect(kindRequest)
	fast, _ := w.connectAssembling("fast")
	fast.open(0)
	fast.serve(fast.expect(kindRequest).Index) // endgame: the last chunk is asked of both
	w.stored(0)
	slow.expect(kindCancel)
	if _, forgot := asmSlow.log(); !slices.Contains(forgot, 0) {
		t.Errorf("Forget calls %v, want chunk 0 withdrawn", forgot)
	}
	slow.serve(0) // late: ignored, the connection stays
	if !slow.alive(0) {
		t.Error("late blocks of a withdrawn chunk dropped the peer")
	}
	if held := w.held(); !slices.Equal(held, []int{0}) {
		t.Errorf("held %v, want [0]", held)
	}
}
