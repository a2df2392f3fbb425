//go:build js

// Package jsmem hands Go bytes to browser APIs that copy what they are
// given (Blob, RTCDataChannel.send) without first copying them into a
// JavaScript array.
//
// The page defines window.tabswarmMemory with functions that view the
// module's memory in place: blob(ptr, len, type), send(channel, ptr, len)
// and take(batch, ptr, len), a receive pump, recv (see Receive), and,
// where it could load one, a wasm SHA-256, sha256(ptr, len) (see
// SHA256). The view is made inside the call, after every argument is
// converted, so a memory growth in between cannot detach it. Where the
// page has no such helper (tests under Node), the bytes are copied first.
package jsmem

import (
	"fmt"
	"runtime"
	"syscall/js"
	"unsafe"
)

var (
	uint8Array = js.Global().Get("Uint8Array")
	blobClass  = js.Global().Get("Blob")
	// helper is the page's window.tabswarmMemory, which the page defines
	// before it starts the module, or undefined.
	helper = js.Global().Get("tabswarmMemory")
)

// addr is b's address in the module's memory, for the helper to view.
// b must be on the heap, as every buffer passed here is: a goroutine
// stack can move while a call is set up, and an address on it with it
// (a digest buffer the compiler kept on the stack once made chunks fail
// verification at random).
func addr(b []byte) int { return int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// Copy returns a new Uint8Array holding a copy of b.
func Copy(b []byte) js.Value {
	u := uint8Array.New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

// Blob returns a new Blob of media type typ holding a copy of b.
func Blob(b []byte, typ string) js.Value {
	if helper.Truthy() && len(b) > 0 {
		v := helper.Call("blob", addr(b), len(b), typ)
		runtime.KeepAlive(b)
		return v
	}
	return blobClass.New([]any{Copy(b)}, map[string]any{"type": typ})
}

// Send sends b as one binary message on the RTCDataChannel dc. A closed
// or failed channel's exception comes back as an error.
func Send(dc js.Value, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = fmt.Errorf("data channel send: %s", je.Value.Get("message").String())
				return
			}
			panic(r)
		}
	}()
	if helper.Truthy() && len(b) > 0 {
		helper.Call("send", dc, addr(b), len(b))
		runtime.KeepAlive(b)
		return nil
	}
	dc.Call("send", Copy(b))
	return nil
}
