//go:build !js

package filestore

import (
	"errors"
	"os"
)

// linkUnlink moves from to to as a hard link then an unlink: the link
// fails if to exists, so nothing there is ever replaced. On a file system
// without hard links (FAT, some network ones) it checks that to does not
// exist and renames, which leaves a moment in which a file created at to
// would be replaced.
func linkUnlink(from, to string) error {
	err := os.Link(from, to)
	if err == nil {
		return os.Remove(from)
	}
	if errors.Is(err, os.ErrExist) {
		return err
	}
	switch _, serr := os.Lstat(to); {
	case serr == nil:
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	case !errors.Is(serr, os.ErrNotExist):
		return serr
	}
	return os.Rename(from, to)
}
