//go:build !js

package filestore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"tabswarm/swarm"
)

// threeChunks returns a file of three chunks and its manifest.
func threeChunks(t *testing.T) ([]byte, *swarm.Manifest) {
	t.Helper()
	data := make([]byte, 2*swarm.MinChunkSize+5)
	for i := range data {
		data[i] = byte(i * 3)
	}
	return data, swarm.NewManifest("d.bin", "", int64(len(data)), swarm.HashRun(nil, data, swarm.ChunkSize(int64(len(data)))))
}

func chunkOf(data []byte, m *swarm.Manifest, i int) []byte {
	off := int64(i) * m.ChunkSize
	return data[off : off+int64(m.ChunkLen(i))]
}

// TestResumeVerifiesHeldChunks overwrites a part file with other bytes,
// all but one chunk, beside a state file that marks every chunk held: the
// resumed download holds only the chunk that is still right.
func TestResumeVerifiesHeldChunks(t *testing.T) {
	data, m := threeChunks(t)
	target := filepath.Join(t.TempDir(), "out.bin")
	tampered := bytes.Repeat([]byte{0xee}, len(data))
	copy(tampered[m.ChunkSize:], chunkOf(data, m, 1))
	os.WriteFile(partPath(target), tampered, 0o644)
	all := swarm.NewBitfield(m.NumChunks())
	for i := range m.NumChunks() {
		all.Set(i)
	}
	raw, _ := json.Marshal(state{Manifest: m, Have: all.Bytes()})
	os.WriteFile(statePath(target), raw, 0o644)

	l := New(t.TempDir())
	defer l.Close()
	c, err := l.Download(context.Background(), m, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	have, _ := c.Have(context.Background())
	if have.Count() != 1 || !have.Has(1) {
		t.Fatalf("resumed holding %d chunks (chunk 1: %v), want only chunk 1", have.Count(), have.Has(1))
	}
	if _, err := l.Finish(m.Digest); err == nil {
		t.Fatal("a download with tampered chunks finished")
	}
}

// TestStateSavedOnClose: chunks written within saveEvery of the last save
// are recorded by Close, and a new library resumes with them.
func TestStateSavedOnClose(t *testing.T) {
	ctx := context.Background()
	data, m := threeChunks(t)
	target := filepath.Join(t.TempDir(), "out.bin")
	l := New(t.TempDir())
	c, err := l.Download(context.Background(), m, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		if err := c.WriteChunk(ctx, i, chunkOf(data, m, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = New(t.TempDir())
	defer l.Close()
	c, err = l.Download(context.Background(), m, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if have, _ := c.Have(ctx); have.Count() != 2 || have.Has(1) {
		t.Fatalf("resumed with %d chunks, want chunks 0 and 2", have.Count())
	}
}

// TestRefusesLinkedPartFiles plants a symbolic link at the part file and
// at the state file in turn: the download is refused with ErrLink and the
// link's target is untouched. A link at the old temporary state name is
// never written through.
func TestRefusesLinkedPartFiles(t *testing.T) {
	data, m := threeChunks(t)
	for _, planted := range []func(string) string{partPath, statePath, func(t string) string { return statePath(t) + ".tmp" }} {
		dir := t.TempDir()
		target := filepath.Join(dir, "out.bin")
		victim := filepath.Join(dir, "victim")
		os.WriteFile(victim, []byte("keep me"), 0o644)
		if err := os.Symlink(victim, planted(target)); err != nil {
			t.Fatal(err)
		}
		l := New(dir)
		c, err := l.Download(context.Background(), m, target, nil)
		if planted(target) == statePath(target)+".tmp" {
			if err != nil {
				t.Fatalf("link at %s: %v", filepath.Base(planted(target)), err)
			}
			for i := range m.NumChunks() {
				c.WriteChunk(context.Background(), i, chunkOf(data, m, i))
			}
			if _, err := l.Finish(m.Digest); err != nil {
				t.Fatal(err)
			}
		} else if !errors.Is(err, ErrLink) {
			t.Errorf("link at %s: err = %v, want ErrLink", filepath.Base(planted(target)), err)
		}
		l.Close()
		if got, _ := os.ReadFile(victim); string(got) != "keep me" {
			t.Errorf("link at %s: its target now holds %q", filepath.Base(planted(target)), got)
		}
	}
}

// TestFinishNeverReplaces: a file that appears at the target during the
// download stays; Finish fails with ErrTargetExists and the complete
// download stays in its part file.
func TestFinishNeverReplaces(t *testing.T) {
	ctx := context.Background()
	data, m := threeChunks(t)
	target := filepath.Join(t.TempDir(), "out.bin")
	l := New(t.TempDir())
	defer l.Close()
	c, err := l.Download(context.Background(), m, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.NumChunks() {
		c.WriteChunk(ctx, i, chunkOf(data, m, i))
	}
	os.WriteFile(target, []byte("theirs"), 0o644)
	if _, err := l.Finish(m.Digest); !errors.Is(err, ErrTargetExists) {
		t.Fatalf("Finish = %v, want ErrTargetExists", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "theirs" {
		t.Fatalf("target replaced: %d bytes", len(got))
	}
	if got, _ := os.ReadFile(partPath(target)); !bytes.Equal(got, data) {
		t.Fatal("the complete download is not in its part file")
	}
}

// TestLinkUnlinkNeverReplaces checks the fallback used where rename
// cannot refuse to replace.
func TestLinkUnlinkNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(from, []byte("a"), 0o644)
	os.WriteFile(to, []byte("b"), 0o644)
	if err := linkUnlink(from, to); !errors.Is(err, os.ErrExist) {
		t.Fatalf("err = %v, want ErrExist", err)
	}
	os.Remove(to)
	if err := linkUnlink(from, to); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(to); string(got) != "a" {
		t.Fatalf("moved file holds %q", got)
	}
	if _, err := os.Stat(from); !os.IsNotExist(err) {
		t.Fatalf("source left behind: %v", err)
	}
}
