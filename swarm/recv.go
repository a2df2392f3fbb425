package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// frame applies one frame from c; an error drops c.
func (f *file) frame(ctx context.Context, c *peerConn, fr frame) error {
	n := f.m.NumChunks()
	if fr.Kind == kindHello {
		if c.hello {
			return fmt.Errorf("%w: second hello", ErrProtocol)
		}
		if fr.Version != WireVersion {
			return fmt.Errorf("%w: wire version %d, want %d", ErrProtocol, fr.Version, WireVersion)
		}
		bf, ok := BitfieldFromBytes(n, fr.Have)
		if !ok || fr.Count != n {
			return fmt.Errorf("%w: hello for %d chunks, file has %d", ErrProtocol, fr.Count, n)
		}
		c.hello, c.have = true, bf
		f.pick.addPeer(bf)
		if !c.greeted {
			f.greet(c)
		}
		return nil
	}
	if !c.hello {
		return fmt.Errorf("%w: %v before hello", ErrProtocol, fr.Kind)
	}
	if fr.Index >= n {
		return fmt.Errorf("%w: %v for chunk %d of %d", ErrProtocol, fr.Kind, fr.Index, n)
	}
	i := fr.Index
	switch fr.Kind {
	case kindHave:
		if !c.have.Has(i) {
			c.have.Set(i)
			f.pick.peerHas(i)
		}
	case kindRequest:
		if !f.pick.holds(i) || !c.out.upload(i) {
			c.out.control(appendIndex(nil, kindReject, i))
		}
	case kindCancel:
		c.out.cancel(i)
	case kindReject:
		if c.asked[i] != nil {
			f.unask(c, i)
			c.progress = f.now()
		}
		if c.have.Has(i) {
			c.have.Clear(i)
			f.pick.peerLost(i)
		}
	case kindPiece:
		return f.piece(ctx, c, fr)
	}
	return nil
}

// piece adds one block to a requested chunk and, once the chunk is whole,
// hands it to a goroutine for verification and storage. Blocks must come
// in order, as a sender sends them: a chunk in progress holds only the
// blocks received so far, never its whole size up front.
func (f *file) piece(ctx context.Context, c *peerConn, fr frame) error {
	i := fr.Index
	a := c.asked[i]
	if a == nil {
		if c.cancelled[i] {
			return nil // the tail of a chunk we cancelled
		}
		return fmt.Errorf("%w: piece of chunk %d, never requested", ErrProtocol, i)
	}
	size := f.m.ChunkLen(i)
	if a.stale && a.next == 0 && fr.Offset > 0 {
		return nil // the tail of an earlier, cancelled send of this chunk
	}
	if fr.Offset != a.next || fr.Offset >= size || len(fr.Data) != min(BlockSize, size-fr.Offset) {
		return fmt.Errorf("%w: block at %d of chunk %d, want %d", ErrProtocol, fr.Offset, i, a.next)
	}
	a.blocks = append(a.blocks, fr.Data)
	a.next += len(fr.Data)
	c.accepted += int64(len(fr.Data))
	c.progress = f.now()
	if a.next < size {
		return nil
	}
	f.take(ctx, c, i, received{data: a.join(size)})
	return nil
}

// received is a whole chunk: its bytes, or an Assembler's body and the
// digest it computed.
type received struct {
	data []byte
	body any
	sum  Hash // with body
}

// assembled applies an Assembler's report from c: blocks taken, or a
// chunk it assembled, which is checked and stored as one whose blocks
// came as frames.
func (f *file) assembled(ctx context.Context, c *peerConn, r Received) error {
	if r.Taken > 0 {
		c.accepted += int64(r.Taken)
		c.progress = f.now()
	}
	a := r.Chunk
	if a == nil {
		return nil
	}
	if a.Err != nil {
		return a.Err
	}
	if c.asked[a.Index] == nil {
		return nil // withdrawn (Forget) while it was being assembled
	}
	f.take(ctx, c, a.Index, received{body: a.Body, sum: a.Digest})
	return nil
}

// take ends the request for chunk i, now whole, from c and every other
// peer, and hands the chunk to a goroutine that verifies and stores it.
func (f *file) take(ctx context.Context, c *peerConn, i int, r received) {
	delete(c.asked, i)
	f.pick.unasked(i)
	f.pick.received(i)
	for _, o := range f.conns {
		if o.asked[i] != nil {
			o.out.control(appendIndex(nil, kindCancel, i))
			f.unask(o, i)
		}
	}
	f.wg.Go(func() {
		err := f.verifyAndStore(ctx, i, r)
		if errors.Is(err, ErrBadChunk) {
			err = fmt.Errorf("chunk %d from peer %s: %w", i, c.id, err)
		}
		select {
		case f.events <- event{kind: evChecked, c: c, idx: i, err: err}:
		case <-ctx.Done():
		}
	})
}

// verifyAndStore checks chunk i against the manifest and stores it. An
// error wraps ErrBadChunk when it does not match.
func (f *file) verifyAndStore(ctx context.Context, i int, r received) error {
	h := r.sum
	if r.body == nil {
		var err error
		if h, err = f.hash(ctx, r.data); err != nil {
			return err
		}
	}
	if h != f.m.Chunks[i] {
		return ErrBadChunk
	}
	var err error
	if r.body != nil {
		err = f.store.(BodyWriter).WriteBody(ctx, i, r.body)
	} else if err = f.store.WriteChunk(ctx, i, r.data); err == nil {
		f.stored(i, r.data)
	}
	if err != nil {
		return fmt.Errorf("storing chunk %d: %w", i, err)
	}
	return nil
}

// unask withdraws the request for chunk i from c: the blocks that still
// come for it are ignored.
func (f *file) unask(c *peerConn, i int) {
	delete(c.asked, i)
	if c.asm != nil {
		c.asm.Forget(i)
	}
	c.cancelled[i] = true
	f.pick.unasked(i)
}

// checked records the outcome of verifying and storing chunk i from c.
func (f *file) checked(c *peerConn, i int, err error) bool {
	switch {
	case err == nil:
		f.pick.stored(i)
		f.liedAt = time.Time{} // progress: a later stall waits its own grace
		f.source[i] = f.sourceOf(c.id)
		if t := f.totals[c.id]; t != nil {
			t.Chunks++
		}
		for _, o := range f.conns {
			// A peer not yet greeted gets i in our hello; one that holds
			// every chunk has no use for it.
			if o.greeted && !(o.hello && o.have.Full()) {
				o.out.control(appendIndex(nil, kindHave, i))
			}
		}
		switch {
		case f.complete():
			f.state = StateSeeding
			f.log.Info("download complete")
			f.finish(nil)
			f.publish()
		case f.pick.held() == 1:
			f.publish() // the first progress shows at once, not at the next tick
		}
		f.ping()
	case errors.Is(err, ErrBadChunk):
		f.pick.failed(i)
		f.log.Warn("dropping lying peer", "peer", c.id, "err", err)
		f.mu.Lock()
		f.banned[c.id] = err.Error()
		f.mu.Unlock()
		if f.conns[c.id] == c {
			f.drop(c, err)
		}
	default:
		f.pick.failed(i)
		f.log.Error("storing chunk", "chunk", i, "err", err)
		f.state, f.errMsg = StateError, err.Error()
		f.finish(err)
		f.publish()
		f.ping()
	}
	return true
}

func (f *file) sourceOf(id string) int {
	k, ok := f.sourceIdx[id]
	if !ok {
		k = len(f.sourceIDs)
		f.sourceIDs = append(f.sourceIDs, id)
		f.sourceIdx[id] = k
	}
	return k + 2
}
