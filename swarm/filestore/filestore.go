//go:build !js

// Package filestore is a swarm.Library on the local file system, for the
// native peer. A shared file is served in place, read-only. A download is
// written to NAME.part beside its target, with its progress (manifest and
// have-bitfield) in NAME.part.json, and renamed to NAME once every chunk is
// in; an interrupted download resumes from the state file without
// refetching verified chunks.
package filestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"tabswarm/swarm"
)

// Library holds shared files and downloads. The zero value is not usable:
// make one with New.
type Library struct {
	dir string

	mu    sync.Mutex
	files map[swarm.Hash]*entry
}

var _ swarm.Library = (*Library)(nil)

// New returns a Library that puts downloads it was not told a target for
// (those Open starts for an unknown manifest) in dir.
func New(dir string) *Library {
	return &Library{dir: dir, files: make(map[swarm.Hash]*entry)}
}

// entry is one file: complete and served from path, or a download into
// path+".part".
type entry struct {
	lib    *Library
	m      *swarm.Manifest
	target string

	mu   sync.Mutex
	f    *os.File
	have swarm.Bitfield
	done bool // target holds the complete file
}

var _ swarm.Chunks = (*entry)(nil)

func partPath(target string) string  { return target + ".part" }
func statePath(target string) string { return target + ".part.json" }

// state is the JSON kept beside a partial download.
type state struct {
	Manifest *swarm.Manifest `json:"manifest"`
	Have     []byte          `json:"have"`
}

// Share hashes the file at path, chunk by chunk, and adds it to the library
// as complete; its chunks are read from path when peers ask.
func (l *Library) Share(ctx context.Context, path string) (*swarm.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sharing: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sharing: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("sharing %s: not a regular file", path)
	}
	size := fi.Size()
	cs := swarm.ChunkSize(size)
	buf := make([]byte, cs)
	var hashes []swarm.Hash
	for off := int64(0); off < size; off += cs {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		n := min(cs, size-off)
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			f.Close()
			return nil, fmt.Errorf("sharing %s: %w", path, err)
		}
		hashes = append(hashes, swarm.HashChunk(buf[:n]))
	}
	m := swarm.NewManifest(filepath.Base(path), "", size, hashes)
	have := swarm.NewBitfield(m.NumChunks())
	for i := range m.NumChunks() {
		have.Set(i)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.files[m.Digest]; old != nil {
		f.Close()
		return old.m, nil
	}
	l.files[m.Digest] = &entry{lib: l, m: m, target: path, f: f, have: have, done: true}
	return m, nil
}

// Download adds m as a download into target, resuming from target's state
// file when one matches m.
func (l *Library) Download(m *swarm.Manifest, target string) (swarm.Chunks, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.files[m.Digest]; e != nil {
		return e, nil
	}
	e, err := openPartial(l, m, target)
	if err != nil {
		return nil, err
	}
	l.files[m.Digest] = e
	return e, nil
}

func openPartial(l *Library, m *swarm.Manifest, target string) (*entry, error) {
	e := &entry{lib: l, m: m, target: target, have: swarm.NewBitfield(m.NumChunks())}
	if raw, err := os.ReadFile(statePath(target)); err == nil {
		var st state
		if json.Unmarshal(raw, &st) == nil && st.Manifest != nil && st.Manifest.Digest == m.Digest {
			if b, ok := swarm.BitfieldFromBytes(m.NumChunks(), st.Have); ok {
				e.have = b
			}
		}
	}
	f, err := os.OpenFile(partPath(target), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, wrap("creating the download", err)
	}
	if err := f.Truncate(m.Size); err != nil {
		f.Close()
		return nil, wrap("sizing the download", err)
	}
	e.f = f
	if err := e.saveState(); err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// Files implements swarm.Library.
func (l *Library) Files(ctx context.Context) ([]*swarm.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*swarm.Manifest, 0, len(l.files))
	for _, e := range l.files {
		out = append(out, e.m)
	}
	return out, nil
}

// Open implements swarm.Library. A file it does not know yet becomes a
// download into the library's directory, under its digest.
func (l *Library) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	l.mu.Lock()
	e := l.files[m.Digest]
	l.mu.Unlock()
	if e != nil {
		return e, nil
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, wrap("creating the download folder", err)
	}
	return l.Download(m, filepath.Join(l.dir, m.Digest.String()))
}

// Remove implements swarm.Library. It deletes a download's partial file and
// state; a shared or finished file on disk is left alone.
func (l *Library) Remove(ctx context.Context, d swarm.Hash) error {
	l.mu.Lock()
	e := l.files[d]
	delete(l.files, d)
	l.mu.Unlock()
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.f.Close()
	if e.done {
		return nil
	}
	return errors.Join(rmIfExists(partPath(e.target)), rmIfExists(statePath(e.target)))
}

func rmIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Close closes every open file.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, e := range l.files {
		e.mu.Lock()
		errs = append(errs, e.f.Close())
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Have implements swarm.Chunks.
func (e *entry) Have(ctx context.Context) (swarm.Bitfield, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.have.Clone(), nil
}

// ReadChunk implements swarm.Chunks.
func (e *entry) ReadChunk(ctx context.Context, i int) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.have.Has(i) {
		return nil, fmt.Errorf("chunk %d of %s: %w", i, e.m.Digest, swarm.ErrNoChunk)
	}
	buf := make([]byte, e.m.ChunkLen(i))
	if _, err := e.f.ReadAt(buf, int64(i)*e.m.ChunkSize); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading chunk %d: %w", i, err)
	}
	return buf, nil
}

// WriteChunk implements swarm.Chunks. The chunk is written and synced
// before the state file records it, so a crash never marks a chunk held
// that is not on disk. The last chunk renames the file into place.
func (e *entry) WriteChunk(ctx context.Context, i int, data []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done || e.have.Has(i) {
		return nil
	}
	if i < 0 || i >= e.m.NumChunks() || len(data) != e.m.ChunkLen(i) {
		return fmt.Errorf("chunk %d of %s: wrong index or length", i, e.m.Digest)
	}
	if _, err := e.f.WriteAt(data, int64(i)*e.m.ChunkSize); err != nil {
		return wrap(fmt.Sprintf("writing chunk %d", i), err)
	}
	if err := e.f.Sync(); err != nil {
		return wrap(fmt.Sprintf("writing chunk %d", i), err)
	}
	e.have.Set(i)
	if err := e.saveState(); err != nil {
		e.have.Clear(i)
		return err
	}
	return nil
}

// Finish moves a complete download into place and deletes its state. It is
// a no-op for a shared file.
func (l *Library) Finish(d swarm.Hash) (string, error) {
	l.mu.Lock()
	e := l.files[d]
	l.mu.Unlock()
	if e == nil {
		return "", fmt.Errorf("%s: %w", d, swarm.ErrNotFound)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return e.target, nil
	}
	if !e.have.Full() {
		return "", fmt.Errorf("%d of %d chunks: %w", e.have.Count(), e.have.Len(), swarm.ErrNoChunk)
	}
	if err := os.Rename(partPath(e.target), e.target); err != nil {
		return "", wrap("moving the download into place", err)
	}
	e.done = true
	return e.target, rmIfExists(statePath(e.target))
}

// saveState writes the state file atomically. Called with e.mu held.
func (e *entry) saveState() error {
	raw, err := json.Marshal(state{Manifest: e.m, Have: e.have.Bytes()})
	if err != nil {
		return err
	}
	tmp := statePath(e.target) + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return wrap("saving download state", err)
	}
	if err := os.Rename(tmp, statePath(e.target)); err != nil {
		return wrap("saving download state", err)
	}
	return nil
}

// wrap adds context and maps a full disk to swarm.ErrQuota.
func wrap(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%s: %w: %w", what, swarm.ErrQuota, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
