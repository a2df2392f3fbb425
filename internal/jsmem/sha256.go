//go:build js

package jsmem

import (
	"crypto/sha256"
	"runtime"
	"syscall/js"
)

// SHA256 returns the SHA-256 of b computed by the page's wasm SHA-256
// (the helper's sha256, hash-wasm), which reads b in place (see addr: a
// chunk is on the heap). Call it only where HasSHA256. The digest comes
// back as a Uint8Array, not written to a Go address, for addr's reason.
func SHA256(b []byte) [sha256.Size]byte {
	var h [sha256.Size]byte
	js.CopyBytesToGo(h[:], helper.Call("sha256", addr(b), len(b)))
	runtime.KeepAlive(b)
	return h
}

// HasSHA256 reports whether the page lent a wasm SHA-256.
func HasSHA256() bool { return helper.Truthy() && helper.Get("sha256").Truthy() }
