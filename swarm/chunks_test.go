package swarm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"tabswarm/swarm"
)

// TestHashFile checks HashFile against a by-hand SHA-256 of each chunk,
// for sizes around the chunk and run boundaries, and that it reports
// progress up to the size.
func TestHashFile(t *testing.T) {
	data := make([]byte, 2*swarm.RunSize+swarm.MinChunkSize+3)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	for _, size := range []int{0, 1, swarm.MinChunkSize - 1, swarm.MinChunkSize, 3*swarm.MinChunkSize + 1, swarm.RunSize, len(data)} {
		b := data[:size]
		cs := int(swarm.ChunkSize(int64(size)))
		var want []swarm.Hash
		for off := 0; off < size; off += cs {
			want = append(want, sha256.Sum256(b[off:min(off+cs, size)]))
		}
		var last int64
		got, err := swarm.HashFile(context.Background(), bytes.NewReader(b), int64(size), func(n int64) {
			if n <= last {
				t.Errorf("size %d: progress went from %d to %d", size, last, n)
			}
			last = n
		})
		if err != nil || len(got) != len(want) || last != int64(size) {
			t.Fatalf("size %d: %d hashes (want %d), progress %d, %v", size, len(got), len(want), last, err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("size %d: chunk %d hash differs", size, i)
			}
		}
		if m := swarm.NewManifest("f", "", int64(size), got); m.Validate() != nil {
			t.Fatalf("size %d: %v", size, m.Validate())
		}
	}
}

// TestHashFileShortRead: a file shorter than the size it was said to have
// is an error, not hashes of zeros.
func TestHashFileShortRead(t *testing.T) {
	_, err := swarm.HashFile(context.Background(), bytes.NewReader(make([]byte, 100)), 200, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
}
