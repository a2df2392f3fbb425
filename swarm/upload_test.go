package swarm

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
)

// chunkSending is a Pipe end that sends uploads itself (ChunkSender), as
// the page does: a body (the chunk's bytes here) goes out in blocks
// behind the head it is given. When gate is set, it sends the first
// block and then waits for gate or for its ctx.
type chunkSending struct {
	Transport
	gate chan struct{}

	mu        sync.Mutex
	sent      []int // the chunks SendChunk was called for
	cancelled []int // those whose ctx ended before their end
}

func (s *chunkSending) SendChunk(ctx context.Context, head []byte, body any, progress func(int)) error {
	data := body.([]byte)
	i := int(binary.BigEndian.Uint32(head[1:]))
	s.mu.Lock()
	s.sent = append(s.sent, i)
	s.mu.Unlock()
	for off := 0; off < len(data); off += BlockSize {
		if off == BlockSize && s.gate != nil {
			select {
			case <-s.gate:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			s.mu.Lock()
			s.cancelled = append(s.cancelled, i)
			s.mu.Unlock()
			return ctx.Err()
		}
		msg := slices.Clone(head)
		binary.BigEndian.PutUint32(msg[len(msg)-4:], uint32(off))
		msg = append(msg, data[off:min(off+BlockSize, len(data))]...)
		if err := s.Send(ctx, msg); err != nil {
			return err
		}
		progress(min(off+BlockSize, len(data)))
	}
	return nil
}

func (s *chunkSending) log() (sent, cancelled []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent), slices.Clone(s.cancelled)
}

// newUploadingWire starts a file of n chunks holding all but the last
// in a store that reads bodies, and attaches remote "l", which dialled,
// over a transport that sends uploads itself.
func newUploadingWire(t *testing.T, n int, gate chan struct{}) (*wire, *remote, *chunkSending, *bodyStore, []byte) {
	data, m := testData(n, 3)
	var bs *bodyStore
	have := make([]int, n-1)
	for i := range have {
		have[i] = i
	}
	w := newWireStore(t, data, m, nil, func(c Chunks) Chunks {
		bs = &bodyStore{Chunks: c}
		return bs
	}, have...)
	var cs *chunkSending
	r := w.attachOver(Conn{Peer: "l", Initiator: "l"}, 0, func(t Transport) Transport {
		cs = &chunkSending{Transport: t, gate: gate}
		return cs
	})
	r.open()
	return w, r, cs, bs, data
}

// TestUploadSentByTransport: where the store reads bodies and the
// transport sends uploads itself, a chunk asked for is read once with
// ReadBody and handed to SendChunk whole, the peer gets its bytes as
// piece frames, and the bytes count as sent.
func TestUploadSentByTransport(t *testing.T) {
	w, r, cs, bs, data := newUploadingWire(t, 3, nil)
	r.send(appendIndex(nil, kindRequest, 1))
	var got []byte
	for len(got) < MinChunkSize {
		fr := r.expect(kindPiece)
		if fr.Index != 1 || fr.Offset != len(got) {
			t.Fatalf("piece %d at %d, want chunk 1 at %d", fr.Index, fr.Offset, len(got))
		}
		got = append(got, fr.Data...)
	}
	if !bytes.Equal(got, data[MinChunkSize:2*MinChunkSize]) {
		t.Error("the peer got other bytes than chunk 1's")
	}
	bs.mu.Lock()
	read := slices.Clone(bs.read)
	bs.mu.Unlock()
	if sent, _ := cs.log(); !slices.Equal(read, []int{1}) || !slices.Equal(sent, []int{1}) {
		t.Errorf("read %v as bodies, SendChunk for %v; want [1] and [1]", read, sent)
	}
	w.until("the upload counted", func() bool { return w.f.conns["l"].bytesOut.Load() == MinChunkSize })
}

// TestUploadCancelStopsTransport: a cancel for a chunk the transport is
// sending ends its SendChunk, the connection stays up, and a control
// frame (here a reject) goes out while an upload is under way.
func TestUploadCancelStopsTransport(t *testing.T) {
	gate := make(chan struct{})
	_, r, cs, _, _ := newUploadingWire(t, 4, gate)
	r.send(appendIndex(nil, kindRequest, 0))
	if fr := r.expect(kindPiece); fr.Index != 0 || fr.Offset != 0 {
		t.Fatalf("first piece %d at %d, want chunk 0 at 0", fr.Index, fr.Offset)
	}
	// Chunk 0 waits at the gate: a request for a chunk the file does not
	// hold is rejected meanwhile.
	r.send(appendIndex(nil, kindRequest, 3))
	if fr := r.expect(kindReject); fr.Index != 3 {
		t.Fatalf("reject for %d, want 3", fr.Index)
	}
	r.send(appendIndex(nil, kindCancel, 0))
	r.send(appendIndex(nil, kindRequest, 2))
	fr := r.expect(kindPiece)
	if fr.Index != 2 || fr.Offset != 0 {
		t.Fatalf("after the cancel, piece %d at %d, want chunk 2 at 0", fr.Index, fr.Offset)
	}
	if _, cancelled := cs.log(); !slices.Equal(cancelled, []int{0}) {
		t.Errorf("SendChunk stopped for %v, want [0]", cancelled)
	}
	close(gate)
	if !r.alive(1) {
		t.Error("the connection went down")
	}
}
