package filestore

import (
	"context"
	"errors"
	"testing"

	"tabswarm/internal/tmpfs"
	"tabswarm/swarm"
)

// TestDiskFull writes a download onto a 1 MiB tmpfs: the write that does
// not fit fails with ErrQuota, and the chunks before it stay recorded.
func TestDiskFull(t *testing.T) {
	dir := tmpfs.Mount(t, "1m")

	ctx := context.Background()
	chunk := make([]byte, swarm.MinChunkSize)
	hashes := make([]swarm.Hash, 8)
	for i := range hashes {
		hashes[i] = swarm.HashChunk(chunk)
	}
	m := swarm.NewManifest("big", "", int64(len(hashes)*len(chunk)), hashes)
	l := New(dir)
	defer l.Close()
	c, err := l.Download(context.Background(), m, dir+"/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	var failed error
	written := 0
	for i := range hashes {
		if failed = c.WriteChunk(ctx, i, chunk); failed != nil {
			break
		}
		written++
	}
	if !errors.Is(failed, swarm.ErrQuota) {
		t.Fatalf("err = %v, want ErrQuota", failed)
	}
	have, _ := c.Have(ctx)
	if have.Count() != written || written == 0 {
		t.Fatalf("have %d chunks after %d good writes", have.Count(), written)
	}
}
