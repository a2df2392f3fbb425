//go:build !linux && !js

package filestore

// renameNoReplace moves from to to, failing with an error wrapping
// os.ErrExist when to exists.
func renameNoReplace(from, to string) error { return linkUnlink(from, to) }
