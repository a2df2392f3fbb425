//go:build !js

package filestore

import "errors"

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrLink means a download's part file or state file is a symbolic
	// link, which the store never writes through.
	ErrLink = errors.New("filestore: part file is a symbolic link")
	// ErrTargetExists means a file appeared at a download's target while
	// it downloaded; the store never replaces it.
	ErrTargetExists = errors.New("filestore: a file appeared at the target")
)
