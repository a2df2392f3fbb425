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
	"encoding/hex"
	"syscall/js"
	"unsafe"

	"tabswarm/swarm/chunkhash"
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
	var sums [][32]byte
	js.Global().Set("tabswarmSums", js.FuncOf(func(this js.Value, args []js.Value) any {
		sums = chunkhash.Sums(sums[:0], buf, args[0].Int())
		out = out[:0]
		for i := range sums {
			out = hex.AppendEncode(out, sums[i][:])
		}
		return string(out)
	}))
	select {}
}
