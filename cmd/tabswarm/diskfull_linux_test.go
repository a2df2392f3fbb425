package main

import (
	"path/filepath"
	"strings"
	"testing"

	"tabswarm/internal/tmpfs"
)

// TestGetDiskFull downloads onto a 1 MiB tmpfs: get exits with status 5
// and says the disk is full.
func TestGetDiskFull(t *testing.T) {
	dir := tmpfs.Mount(t, "1m")
	url := startTracker(t)
	_, m := shareFile(t, url, 4<<20, nil)
	_, stderr, err := runCmd(t, "get", m.Digest.String(), "--tracker", url, "-o", filepath.Join(dir, "big.bin"))
	if exitCode(err) != 5 || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err %v (exit %d); stderr %s", err, exitCode(err), stderr)
	}
}
