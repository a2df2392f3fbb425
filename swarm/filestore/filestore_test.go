//go:build !js

package filestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tabswarm/swarm"
	"tabswarm/swarm/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) swarm.Library {
		l := New(t.TempDir())
		t.Cleanup(func() { l.Close() })
		return l
	})
}

func TestShareServesInPlace(t *testing.T) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("tabswarm"), swarm.MinChunkSize/4)
	path := filepath.Join(t.TempDir(), "a.bin")
	os.WriteFile(path, data, 0o644)
	l := New(t.TempDir())
	defer l.Close()
	m, err := l.Share(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "a.bin" || m.Size != int64(len(data)) || m.NumChunks() != 2 {
		t.Fatalf("manifest %+v", m)
	}
	c, _ := l.Open(ctx, m)
	for i := range 2 {
		b, err := c.ReadChunk(ctx, i)
		if err != nil || swarm.HashChunk(b) != m.Chunks[i] {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
}

func TestDownloadResumesAndFinishes(t *testing.T) {
	ctx := context.Background()
	data := make([]byte, 2*swarm.MinChunkSize+5)
	for i := range data {
		data[i] = byte(i)
	}
	cs := swarm.MinChunkSize
	parts := [][]byte{data[:cs], data[cs : 2*cs], data[2*cs:]}
	m := swarm.NewManifest("d.bin", "", int64(len(data)), swarm.HashRun(nil, data, swarm.ChunkSize(int64(len(data)))))
	target := filepath.Join(t.TempDir(), "out.bin")

	l := New(t.TempDir())
	c, err := l.Download(ctx, m, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteChunk(ctx, 1, parts[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Finish(m.Digest); err == nil {
		t.Fatal("Finish of an incomplete download succeeded")
	}
	l.Close()

	// Stopped while it checks what is there, it keeps that for next time.
	stopped, stop := context.WithCancel(ctx)
	stop()
	if _, err := New(t.TempDir()).Download(stopped, m, target, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Download with a cancelled context: %v", err)
	}

	// A new process picks the download up where it stopped, saying how
	// far its check of the chunk already there is.
	l = New(t.TempDir())
	defer l.Close()
	var heard []string
	c, err = l.Download(ctx, m, target, func(done, total int) { heard = append(heard, fmt.Sprintf("%d/%d", done, total)) })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(heard, " "); got != "0/1 1/1" {
		t.Errorf("check progress %q, want \"0/1 1/1\"", got)
	}
	have, _ := c.Have(ctx)
	if have.Count() != 1 || !have.Has(1) {
		t.Fatalf("resumed with %d chunks", have.Count())
	}
	c.WriteChunk(ctx, 0, parts[0])
	c.WriteChunk(ctx, 2, parts[2])
	got, err := l.Finish(m.Digest)
	if err != nil || got != target {
		t.Fatalf("Finish = %q, %v", got, err)
	}
	out, _ := os.ReadFile(target)
	if !bytes.Equal(out, data) {
		t.Fatal("finished file differs")
	}
	for _, p := range []string{partPath(target), statePath(target)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind", p)
		}
	}
}
