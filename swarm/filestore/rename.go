//go:build !js

package filestore

import "os"

// linkUnlink moves from to to as a hard link then an unlink: the link
// fails if to exists, so nothing there is ever replaced.
func linkUnlink(from, to string) error {
	if err := os.Link(from, to); err != nil {
		return err
	}
	return os.Remove(from)
}
