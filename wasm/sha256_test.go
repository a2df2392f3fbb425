//go:build js

package main

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"path/filepath"
	"syscall/js"
	"testing"
	"time"

	"tabswarm/internal/jsmem"
)

// pageDigest loads the page's wasm SHA-256 as the page does (hash-wasm
// and static/sha256.js) and returns its digest(data): under Node
// through require, in a browser from the scripts the test page loaded
// (e2e's TestIndexedDBConformance runs these tests in Chromium too).
func pageDigest(t *testing.T) js.Value {
	t.Helper()
	hashwasm, newSHA256 := js.Global().Get("hashwasm"), js.Global().Get("newSHA256")
	if require := js.Global().Get("require"); require.Truthy() {
		dir, err := filepath.Abs("../static")
		if err != nil {
			t.Fatal(err)
		}
		hashwasm = require.Invoke(filepath.Join(dir, "hash-wasm", "sha256.umd.min.js"))
		newSHA256 = require.Invoke(filepath.Join(dir, "sha256.js")).Get("newSHA256")
	}
	if !hashwasm.Truthy() || !newSHA256.Truthy() {
		t.Fatal("neither require nor the page's hash-wasm and sha256.js scripts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	digest, err := await(ctx, newSHA256.Invoke(hashwasm))
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

// TestPageSHA256MatchesGo checks the page's SHA-256, which verifies
// received chunks, against crypto/sha256 on lengths around its block
// (64 bytes) and its copy size (16 KiB) and on whole chunks, one hasher
// reused throughout as the page reuses it; and that one flipped bit
// changes the digest, so a lying peer's chunk cannot pass.
func TestPageSHA256MatchesGo(t *testing.T) {
	digest := pageDigest(t)
	rng := rand.New(rand.NewPCG(13, 13))
	data := make([]byte, 1<<20+5)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sum := func(b []byte) [sha256.Size]byte {
		var h [sha256.Size]byte
		js.CopyBytesToGo(h[:], digest.Invoke(jsmem.Copy(b)))
		return h
	}
	for _, n := range []int{0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000, 16<<10 - 1, 16 << 10, 16<<10 + 1, 256 << 10, 256<<10 + 7, len(data)} {
		b := data[:n]
		if got, want := sum(b), sha256.Sum256(b); got != want {
			t.Errorf("%d bytes: page SHA-256 %x, Go's %x", n, got, want)
		}
	}
	chunk := data[:256<<10]
	want := sha256.Sum256(chunk)
	chunk[100<<10] ^= 0x10
	if sum(chunk) == want {
		t.Error("a chunk with one bit flipped hashed as the original")
	}
}
