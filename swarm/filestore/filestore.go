//go:build !js

// Package filestore is a swarm.Library on the local file system, for the
// native peer. A shared file is served in place, read-only. A download is
// written to NAME.part beside its target, with its progress (manifest and
// have-bitfield) in NAME.part.json, and moved to NAME once every chunk is
// in; an interrupted download resumes from the state file, re-checking
// the chunks it records against their hashes, without refetching the good
// ones.
//
// A download never writes through a symbolic link at NAME.part or
// NAME.part.json (ErrLink), and never replaces a file that appeared at
// NAME while it ran (ErrTargetExists).
package filestore

import (
	"context"
	"errors"
	"fmt"
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
	hashes, err := swarm.HashFile(ctx, f, fi.Size(), nil)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sharing %s: %w", path, err)
	}
	m := swarm.NewManifest(filepath.Base(path), "", fi.Size(), hashes)
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
// file when one matches m. The chunks that file records are read back and
// checked against m's hashes first; the ones that fail are fetched again.
// That check reads the whole of what is already there: checked, unless
// nil, is called before it with done 0 and after each chunk, with total
// the number of chunks the state file records (never when it records
// none). It stops with ctx's error when ctx ends.
func (l *Library) Download(ctx context.Context, m *swarm.Manifest, target string, checked func(done, total int)) (swarm.Chunks, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.files[m.Digest]; e != nil {
		return e, nil
	}
	e, err := openPartial(ctx, l, m, target, checked)
	if err != nil {
		return nil, err
	}
	l.files[m.Digest] = e
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
	return l.Download(ctx, m, filepath.Join(l.dir, m.Digest.String()), nil)
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
	e.stopSaving()
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

// Close saves every download's progress and closes every open file.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, e := range l.files {
		e.mu.Lock()
		e.stopSaving()
		if e.dirty && !e.done {
			errs = append(errs, e.saveState())
		}
		errs = append(errs, e.f.Close())
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Finish moves a complete download into place and deletes its state. It is
// a no-op for a shared file. It never replaces a file that appeared at the
// target meanwhile: that is an error wrapping ErrTargetExists, and the
// download stays in its part file.
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
	if err := e.f.Sync(); err != nil {
		return "", wrap("saving the download", err)
	}
	if err := renameNoReplace(partPath(e.target), e.target); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("%w: %s was created while downloading; the file is complete in %s: move one of them away and run again",
				ErrTargetExists, e.target, partPath(e.target))
		}
		return "", wrap("moving the download into place", err)
	}
	e.done = true
	e.stopSaving()
	return e.target, rmIfExists(statePath(e.target))
}

// wrap adds context and maps a full disk to swarm.ErrQuota.
func wrap(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%s: %w: %w", what, swarm.ErrQuota, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
