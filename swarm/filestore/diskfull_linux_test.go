package filestore

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"tabswarm/swarm"
)

// TestDiskFull writes a download onto a 1 MiB tmpfs: the write that does
// not fit fails with ErrQuota, and the chunks before it stay recorded.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })

	ctx := context.Background()
	chunk := make([]byte, swarm.MinChunkSize)
	hashes := make([]swarm.Hash, 8)
	for i := range hashes {
		hashes[i] = swarm.HashChunk(chunk)
	}
	m := swarm.NewManifest("big", "", int64(len(hashes)*len(chunk)), hashes)
	l := New(dir)
	defer l.Close()
	c, err := l.Download(m, dir+"/big")
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
