//go:build !js

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
	"time"

	"tabswarm/swarm"
)

// saveEvery bounds how often a download's state file is rewritten while
// chunks arrive; the last chunks are recorded at most this long after
// they are written, and on Close. A crash may lose the record of the
// chunks written since, never the file: a resume checks every chunk the
// state file records against its hash, so nothing needs syncing per chunk.
const saveEvery = time.Second

// entry is one file: complete and served from path, or a download into
// path+".part".
type entry struct {
	lib    *Library
	m      *swarm.Manifest
	target string

	mu      sync.Mutex
	f       *os.File
	have    swarm.Bitfield
	done    bool        // target holds the complete file
	dirty   bool        // have holds chunks the state file does not record
	saved   time.Time   // when the state file was last written
	timer   *time.Timer // a pending save of a dirty state
	stopped bool        // closed or removed: no more saves
}

var _ swarm.Chunks = (*entry)(nil)

func partPath(target string) string  { return target + ".part" }
func statePath(target string) string { return target + ".part.json" }

// state is the JSON kept beside a partial download.
type state struct {
	Manifest *swarm.Manifest `json:"manifest"`
	Have     []byte          `json:"have"`
}

// openPartial opens target's part file, creating it, and picks up the
// chunks its state file records that still match their hashes, calling
// checked as it checks them (see Download).
func openPartial(ctx context.Context, l *Library, m *swarm.Manifest, target string, checked func(done, total int)) (*entry, error) {
	if err := checkNoLinks(target); err != nil {
		return nil, err
	}
	e := &entry{lib: l, m: m, target: target, have: readState(m, target)}
	f, err := os.OpenFile(partPath(target), os.O_RDWR|os.O_CREATE|oNoFollow, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%w: %s", ErrLink, partPath(target))
	}
	if err != nil {
		return nil, wrap("creating the download", err)
	}
	e.f = f
	if err := e.verify(ctx, checked); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(m.Size); err != nil {
		f.Close()
		return nil, wrap("sizing the download", err)
	}
	if err := e.saveState(); err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// checkNoLinks refuses a target whose part or state file is a symbolic
// link or anything else but a regular file.
func checkNoLinks(target string) error {
	for _, p := range []string{partPath(target), statePath(target)} {
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			continue
		case fi.Mode()&os.ModeSymlink != 0:
			return fmt.Errorf("%w: %s; remove it and run again", ErrLink, p)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file; remove it and run again", p)
		}
	}
	return nil
}

// readState returns the chunks target's state file records for m, or
// none when it is missing, unreadable or about another file. It never
// follows a link.
func readState(m *swarm.Manifest, target string) swarm.Bitfield {
	none := swarm.NewBitfield(m.NumChunks())
	f, err := os.OpenFile(statePath(target), os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return none
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 2*swarm.MaxManifestBytes))
	if err != nil {
		return none
	}
	var st state
	if json.Unmarshal(raw, &st) != nil || st.Manifest == nil || st.Manifest.Digest != m.Digest {
		return none
	}
	b, ok := swarm.BitfieldFromBytes(m.NumChunks(), st.Have)
	if !ok {
		return none
	}
	return b
}

// verify reads back each chunk e.have records and forgets those that do
// not match their hash: a part file changed, cut short or written by
// something else. Called before e is shared; checked (if not nil) hears
// how far it is.
func (e *entry) verify(ctx context.Context, checked func(done, total int)) error {
	total := e.have.Count()
	if total == 0 {
		return nil
	}
	if checked == nil {
		checked = func(int, int) {}
	}
	checked(0, total)
	var buf []byte
	done := 0
	for i := range e.have.Len() {
		if !e.have.Has(i) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n := e.m.ChunkLen(i)
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		got, err := e.f.ReadAt(buf[:n], int64(i)*e.m.ChunkSize)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("checking chunk %d of %s: %w", i, partPath(e.target), err)
		}
		if got < n || swarm.HashChunk(buf[:n]) != e.m.Chunks[i] {
			e.have.Clear(i)
		}
		done++
		checked(done, total)
	}
	return nil
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

// WriteChunk implements swarm.Chunks. The chunk is written to the part
// file and counted as held; the state file records it within saveEvery.
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
	e.have.Set(i)
	e.dirty = true
	if wait := saveEvery - time.Since(e.saved); wait > 0 {
		if e.timer == nil {
			e.timer = time.AfterFunc(wait, e.saveLater)
		}
		return nil
	}
	if err := e.saveState(); err != nil {
		e.have.Clear(i)
		return err
	}
	return nil
}

// saveLater records the chunks written since the last save. A failure is
// reported by the next write's save, or by Close.
func (e *entry) saveLater() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.timer = nil
	if e.dirty && !e.stopped && !e.done {
		e.saveState()
	}
}

// stopSaving cancels a pending save. Called with e.mu held.
func (e *entry) stopSaving() {
	e.stopped = true
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
}

// saveState replaces the state file with a new one, written under a fresh
// name first (never through a link) and renamed over it. Called with e.mu
// held.
func (e *entry) saveState() error {
	raw, err := json.Marshal(state{Manifest: e.m, Have: e.have.Bytes()})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(e.target), ".tabswarm-state-*")
	if err != nil {
		return wrap("saving download state", err)
	}
	_, err = tmp.Write(raw)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), statePath(e.target))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return wrap("saving download state", err)
	}
	e.dirty, e.saved = false, time.Now()
	return nil
}
