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
	data := a.join(size)
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
		h, err := f.hash(ctx, data)
		switch {
		case err != nil:
		case h != f.m.Chunks[i]:
			err = fmt.Errorf("chunk %d from peer %s: %w", i, c.id, ErrBadChunk)
		default:
			if err = f.store.WriteChunk(ctx, i, data); err == nil {
				f.stored(i, data)
			} else {
				err = fmt.Errorf("storing chunk %d: %w", i, err)
			}
		}
		select {
		case f.events <- event{kind: evChecked, c: c, idx: i, err: err}:
		case <-ctx.Done():
		}
	})
	return nil
}

// unask withdraws the request for chunk i from c: the blocks that still
// come for it are ignored.
func (f *file) unask(c *peerConn, i int) {
	delete(c.asked, i)
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
			if o.greeted { // the others' hellos will hold i
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
