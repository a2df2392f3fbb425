package swarm

import (
	"context"
	"fmt"
	"io"

	"tabswarm/swarm/chunkhash"
)

// RunSize is how many bytes HashFile reads at a time, rounded to whole
// chunks; a share in the browser hands runs of this size to its workers.
const RunSize = 16 << 20

// RunLen returns the length of a run of whole chunks of chunkSize bytes:
// want rounded down to whole chunks, and at least one chunk.
func RunLen(chunkSize, want int64) int64 { return max(chunkSize, want/chunkSize*chunkSize) }

// HashRun appends to dst the hash of each chunk of run, a run of whole
// chunks of chunkSize bytes (the file's last chunk may be short).
func HashRun(dst []Hash, run []byte, chunkSize int64) []Hash {
	return chunkhash.Sums(dst, run, int(chunkSize))
}

// HashFile cuts the size bytes of r into chunks of ChunkSize(size) and
// returns the hash of each, reading runs of RunSize bytes. progress, if
// not nil, is called after each run with the bytes hashed so far.
func HashFile(ctx context.Context, r io.ReaderAt, size int64, progress func(done int64)) ([]Hash, error) {
	cs := ChunkSize(size)
	run := RunLen(cs, RunSize)
	buf := make([]byte, min(run, size))
	hashes := make([]Hash, 0, (size+cs-1)/cs)
	for off := int64(0); off < size; off += run {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := buf[:min(run, size-off)]
		if n, err := r.ReadAt(b, off); n < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading %d bytes at %d: %w", len(b), off, err)
		}
		hashes = HashRun(hashes, b, cs)
		if progress != nil {
			progress(off + int64(len(b)))
		}
	}
	return hashes, nil
}
