//go:build js

package jsmem

import (
	"crypto/sha256"
	"runtime"
)

// SHA256 returns the SHA-256 of b computed by the page's wasm SHA-256
// (the helper's sha256, hash-wasm), which reads b in place, and false
// where the page lent none.
func SHA256(b []byte) (h [sha256.Size]byte, ok bool) {
	if !HasSHA256() {
		return h, false
	}
	out := make([]byte, sha256.Size)
	helper.Call("sha256", addr(b), len(b), addr(out))
	runtime.KeepAlive(b)
	return [sha256.Size]byte(out), true
}

// HasSHA256 reports whether the page lent a wasm SHA-256.
func HasSHA256() bool { return helper.Truthy() && helper.Get("sha256").Truthy() }
