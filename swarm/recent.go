package swarm

import (
	"context"
	"sync"
)

// recentBytes bounds the chunks a node keeps in memory after storing them.
const recentBytes = 8 << 20

// recentChunks keeps the chunks a node verified and stored last, of every
// file, up to a byte budget. In a swarm a fresh chunk is soon asked for by
// the peers that miss it; serving it from here spares a read from the
// store, which in a browser costs an IndexedDB transaction and a copy out
// of a Blob.
type recentChunks struct {
	mu    sync.Mutex
	max   int
	size  int
	order []chunkRef // oldest first
	data  map[chunkRef][]byte
}

// chunkRef names chunk i of the file with digest d.
type chunkRef struct {
	d Hash
	i int
}

func newRecentChunks(max int) *recentChunks {
	return &recentChunks{max: max, data: make(map[chunkRef][]byte)}
}

// add keeps b, which must not change, as chunk i, dropping the oldest
// chunks over the budget. A chunk larger than the budget is not kept.
func (r *recentChunks) add(i chunkRef, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(b) > r.max || r.data[i] != nil {
		return
	}
	for r.size+len(b) > r.max {
		old := r.order[0]
		r.order = r.order[1:]
		r.size -= len(r.data[old])
		delete(r.data, old)
	}
	r.order = append(r.order, i)
	r.data[i] = b
	r.size += len(b)
}

func (r *recentChunks) get(i chunkRef) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.data[i]
	return b, ok
}

// readChunk returns chunk i from the node's recent chunks, or else from
// the store.
func (f *file) readChunk(ctx context.Context, i int) ([]byte, error) {
	if b, ok := f.recentChunk(i); ok {
		return b, nil
	}
	return f.store.ReadChunk(ctx, i)
}

// recentChunk returns chunk i if it is among the node's recent chunks.
func (f *file) recentChunk(i int) ([]byte, bool) {
	if f.recent == nil {
		return nil, false
	}
	return f.recent.get(chunkRef{f.m.Digest, i})
}

// upload returns how c's uploads are read: as readChunk reads them, but
// from the store as bodies where c's transport sends those itself.
func (f *file) upload(c *peerConn) func(context.Context, int) loaded {
	return func(ctx context.Context, i int) loaded {
		if c.uploader == nil {
			data, err := f.readChunk(ctx, i)
			return loaded{data: data, err: err}
		}
		if b, ok := f.recentChunk(i); ok {
			return loaded{data: b}
		}
		body, err := f.store.(BodyReader).ReadBody(ctx, i)
		return loaded{body: body, err: err}
	}
}

// stored notes that chunk i, data, is now in the store.
func (f *file) stored(i int, data []byte) {
	if f.recent != nil {
		f.recent.add(chunkRef{f.m.Digest, i}, data)
	}
}
