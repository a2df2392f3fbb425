//go:build !unix && !js

package filestore

// oNoFollow is 0 where open has no such flag; checkNoLinks's Lstat is the
// only guard there.
const oNoFollow = 0
