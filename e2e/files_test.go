package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"tabswarm/swarm"
)

// testFile is a file on disk that a person shares, with what it must hash to.
type testFile struct {
	name   string
	path   string
	size   int64
	sha256 string // of the bytes, hex
	digest string // tabswarm digest computed natively with package swarm
}

// makeFile writes size pseudo-random bytes (a fixed seed per name, so a
// failure reproduces) into dir/name.
func makeFile(tb testing.TB, dir, name string, size int64) testFile {
	tb.Helper()
	var seed [32]byte
	copy(seed[:], name)
	data := make([]byte, size)
	if _, err := rand.NewChaCha8(seed).Read(data); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return testFile{
		name:   name,
		path:   path,
		size:   size,
		sha256: hex.EncodeToString(sum[:]),
		digest: nativeDigest(data).String(),
	}
}

// nativeDigest computes the content digest the way the native peer does, to
// check that the page agrees with it.
func nativeDigest(data []byte) swarm.Hash {
	cs, chunks := chunkHashes(data)
	return swarm.ComputeDigest(int64(len(data)), cs, chunks)
}

// chunkHashes returns the chunk size package swarm picks for data and the
// hash of each chunk.
func chunkHashes(data []byte) (int64, []swarm.Hash) {
	size := int64(len(data))
	cs := swarm.ChunkSize(size)
	return cs, swarm.HashRun(nil, data, cs)
}

// checkSaved compares the saved file at path with f: name, size and SHA-256.
func checkSaved(tb testing.TB, who string, f testFile, path string) {
	tb.Helper()
	if got := filepath.Base(path); got != f.name {
		tb.Errorf("%s saved %s under the name %q, want %q", who, f.digest, got, f.name)
	}
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		tb.Fatal(err)
	}
	if n != f.size {
		tb.Errorf("%s saved %d bytes for %q, want %d", who, n, f.name, f.size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 {
		tb.Errorf("%s saved %q with SHA-256 %s, want %s", who, f.name, got, f.sha256)
	}
}
