//go:build js

package jsmem

import (
	"crypto/sha256"
	"runtime"
	"syscall/js"
)

// SHA256 returns the SHA-256 of b computed by the page's wasm SHA-256
// (the helper's sha256, hash-wasm), which reads b in place. Call it only
// where HasSHA256, and only with b on the heap (a chunk is): a goroutine
// stack can move while the call is set up, and its address with it. The
// digest comes back as a Uint8Array for that reason: it once went to an
// address in Go's memory, a 32-byte array the compiler kept on the stack,
// and chunks failed verification at random.
func SHA256(b []byte) [sha256.Size]byte {
	var h [sha256.Size]byte
	js.CopyBytesToGo(h[:], helper.Call("sha256", addr(b), len(b)))
	runtime.KeepAlive(b)
	return h
}

// HasSHA256 reports whether the page lent a wasm SHA-256.
func HasSHA256() bool { return helper.Truthy() && helper.Get("sha256").Truthy() }
