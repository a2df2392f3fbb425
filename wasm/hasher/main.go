//go:build js

// Command hasher is the SHA-256 worker the page runs when it shares a file
// over plain http, where crypto.subtle is absent: a few of them hash chunks
// in parallel while the peer's own thread reads and stores. static/hasher.js
// loads it and calls self.tabswarmSha256(buffer) for each chunk.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"syscall/js"
)

func main() {
	var buf []byte
	js.Global().Set("tabswarmSha256", js.FuncOf(func(this js.Value, args []js.Value) any {
		u := js.Global().Get("Uint8Array").New(args[0])
		n := u.Length()
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		js.CopyBytesToGo(buf, u)
		sum := sha256.Sum256(buf)
		return hex.EncodeToString(sum[:])
	}))
	select {}
}
