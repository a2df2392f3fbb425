//go:build js

package main

import (
	"context"
	"fmt"
	"syscall/js"

	"tabswarm/internal/jsmem"
	"tabswarm/swarm"
)

// subtle is crypto.subtle, present only on secure pages (https or
// localhost). A plain http://LAN-IP page has none and hashes in Go.
var subtle = func() js.Value {
	c := js.Global().Get("crypto")
	if c.Type() != js.TypeObject {
		return js.Undefined()
	}
	return c.Get("subtle")
}()

// hasSubtle reports whether the browser's native SHA-256 is available.
func hasSubtle() bool { return subtle.Type() == js.TypeObject }

// digestJS hashes a JS ArrayBuffer or typed array with crypto.subtle.
func digestJS(ctx context.Context, data js.Value) (swarm.Hash, error) {
	var h swarm.Hash
	p, err := call(subtle, "digest", "SHA-256", data)
	if err != nil {
		return h, err
	}
	v, err := await(ctx, p)
	if err != nil {
		return h, fmt.Errorf("crypto.subtle: %w", err)
	}
	js.CopyBytesToGo(h[:], js.Global().Get("Uint8Array").New(v))
	return h, nil
}

// chunkHasher returns the hash the engine verifies chunks with and its
// name: the browser's own when the page is a secure context; else the
// page's wasm SHA-256 (hash-wasm, about 2.5 times as fast as Go's
// compiled to wasm), which reads the chunk in place; else, where the page
// could not load it, Go's (nil: the engine's default).
func chunkHasher() (func(context.Context, []byte) (swarm.Hash, error), string) {
	switch {
	case hasSubtle():
		return func(ctx context.Context, b []byte) (swarm.Hash, error) {
			return digestJS(ctx, jsmem.Copy(b))
		}, "crypto.subtle"
	case jsmem.HasSHA256():
		return func(_ context.Context, b []byte) (swarm.Hash, error) {
			return jsmem.SHA256(b), nil
		}, "hash-wasm"
	}
	return nil, "go"
}
