//go:build js

// Command hasher is the SHA-256 worker the page runs when it shares a file
// where crypto.subtle is absent (a plain-http page): a few of them hash
// runs of the file's chunks in parallel.
// static/hasher.js loads it, copies a run of bytes into the buffer that
// self.tabswarmBuffer(n) returns the address of, and calls
// self.tabswarmSums(chunkSize) for the SHA-256 of each chunk of the run,
// in hex, one after another. No JS object passes into Go, so nothing waits
// for Go's collector to let a chunk go.
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
	var out []byte
	js.Global().Set("tabswarmSums", js.FuncOf(func(this js.Value, args []js.Value) any {
		cs := max(args[0].Int(), 1)
		out = out[:0]
		for off := 0; off < len(buf); off += cs {
			sum := sha256.Sum256(buf[off:min(off+cs, len(buf))])
			out = hex.AppendEncode(out, sum[:])
		}
		return string(out)
	}))
	select {}
}
