// Package chunkhash is the one loop that hashes a run of whole chunks.
// Every file hasher in tabswarm is built from it: swarm.HashFile (the
// native store and tests), a share on a page's own thread, and the
// hashing worker (wasm/hasher). It imports only crypto/sha256, so the
// worker's wasm binary stays small.
package chunkhash

import "crypto/sha256"

// Sums appends to dst the SHA-256 of each chunkSize bytes of run, the last
// chunk being what is left. A chunkSize below 1 counts as 1.
func Sums[H ~[sha256.Size]byte](dst []H, run []byte, chunkSize int) []H {
	chunkSize = max(chunkSize, 1)
	for off := 0; off < len(run); off += chunkSize {
		dst = append(dst, H(sha256.Sum256(run[off:min(off+chunkSize, len(run))])))
	}
	return dst
}
