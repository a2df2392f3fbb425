// Package tmpfs gives tests a small file system that fills up: for the
// disk-full paths, without filling a real disk.
package tmpfs

import (
	"os"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size (tmpfs's spelling, such as "1m") on a fresh
// temporary folder, unmounted when tb ends, and returns the folder. It
// skips tb when it cannot: mounting needs root.
func Mount(tb testing.TB, size string) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("mounting a small tmpfs needs root")
	}
	dir := tb.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		tb.Skipf("cannot mount tmpfs: %v", err)
	}
	tb.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}
