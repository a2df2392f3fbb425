package swarm

import (
	"context"
	"fmt"
	"sync"
)

// MemLibrary is a Library in memory. Its zero value is empty and ready to
// use. A positive Limit caps the bytes it holds; a write past it fails with
// ErrQuota, as a full disk or browser quota would.
type MemLibrary struct {
	Limit int64

	mu    sync.Mutex
	used  int64
	files map[Hash]*memFile
}

var _ Library = (*MemLibrary)(nil)

type memFile struct {
	lib    *MemLibrary
	m      *Manifest
	chunks [][]byte
}

var _ Chunks = (*memFile)(nil)

// Files implements Library.
func (l *MemLibrary) Files(ctx context.Context) ([]*Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Manifest, 0, len(l.files))
	for _, f := range l.files {
		out = append(out, f.m)
	}
	return out, nil
}

// Open implements Library.
func (l *MemLibrary) Open(ctx context.Context, m *Manifest) (Chunks, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.files[m.Digest]; ok {
		return f, nil
	}
	if l.files == nil {
		l.files = make(map[Hash]*memFile)
	}
	f := &memFile{lib: l, m: m, chunks: make([][]byte, m.NumChunks())}
	l.files[m.Digest] = f
	return f, nil
}

// Remove implements Library.
func (l *MemLibrary) Remove(ctx context.Context, d Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.files[d]; ok {
		for _, c := range f.chunks {
			l.used -= int64(len(c))
		}
		delete(l.files, d)
	}
	return nil
}

func (f *memFile) Have(ctx context.Context) (Bitfield, error) {
	f.lib.mu.Lock()
	defer f.lib.mu.Unlock()
	b := NewBitfield(len(f.chunks))
	for i, c := range f.chunks {
		if c != nil {
			b.Set(i)
		}
	}
	return b, nil
}

func (f *memFile) ReadChunk(ctx context.Context, i int) ([]byte, error) {
	f.lib.mu.Lock()
	defer f.lib.mu.Unlock()
	if i < 0 || i >= len(f.chunks) || f.chunks[i] == nil {
		return nil, fmt.Errorf("chunk %d of %s: %w", i, f.m.Digest, ErrNoChunk)
	}
	return f.chunks[i], nil
}

func (f *memFile) WriteChunk(ctx context.Context, i int, data []byte) error {
	f.lib.mu.Lock()
	defer f.lib.mu.Unlock()
	if i < 0 || i >= len(f.chunks) {
		return fmt.Errorf("chunk %d of %s: index out of range", i, f.m.Digest)
	}
	if f.chunks[i] != nil {
		return nil
	}
	if f.lib.Limit > 0 && f.lib.used+int64(len(data)) > f.lib.Limit {
		return fmt.Errorf("chunk %d of %s: %d of %d bytes used: %w", i, f.m.Digest, f.lib.used, f.lib.Limit, ErrQuota)
	}
	f.chunks[i] = append(make([]byte, 0, len(data)), data...)
	f.lib.used += int64(len(data))
	return nil
}
