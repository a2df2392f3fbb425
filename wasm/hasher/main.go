//go:build js

// Command hasher is the SHA-256 worker the page runs when it shares a file
// over plain http, where crypto.subtle is absent: a few of them hash chunks
// in parallel while the peer's own thread slices and stores.
// static/hasher.js loads it, copies each chunk into the buffer that
// self.tabswarmBuffer(n) returns the address of, and calls
// self.tabswarmSum() for the hex SHA-256. No JS object passes into Go, so
// nothing waits for Go's collector to let a chunk go.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"syscall/js"
	"unsafe"
)

func main() {
	var buf []byte
	js.Global().Set("tabswarmBuffer", js.FuncOf(func(this js.Value, args []js.Value) any {
		n := args[0].Int()
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		return int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	}))
	js.Global().Set("tabswarmSum", js.FuncOf(func(this js.Value, args []js.Value) any {
		sum := sha256.Sum256(buf)
		return hex.EncodeToString(sum[:])
	}))
	select {}
}
