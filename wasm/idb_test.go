//go:build js

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"syscall/js"
	"testing"

	"tabswarm/internal/jsmem"
	"tabswarm/swarm"
	"tabswarm/swarm/storetest"
)

// TestIndexedDBLibrary runs the store conformance suite against IndexedDB.
// Node has no IndexedDB, so it runs in the browser: e2e's
// TestIndexedDBConformance loads this test binary into a Chromium tab.
func TestIndexedDBLibrary(t *testing.T) {
	needIDB(t)
	n := 0
	storetest.Run(t, func(t *testing.T) swarm.Library {
		n++
		return tempDB(t, fmt.Sprintf("tabswarm-test-%d", n), dbEvents{})
	})
}

// TestShareStoresWholeFile shares a File of three and a half chunks: its
// manifest is the one the native engine computes, the file is stored as
// one Blob that every chunk and the saved file are read from, and Remove
// leaves nothing behind.
func TestShareStoresWholeFile(t *testing.T) {
	needIDB(t)
	ctx := context.Background()
	lib := tempDB(t, "tabswarm-test-whole", dbEvents{})

	data := make([]byte, 7*swarm.ChunkSize(1)/2)
	rand.Read(data)
	file := js.Global().Get("File").New([]any{jsmem.Copy(data)}, "whole.bin", map[string]any{"type": "application/x-test"})
	var hashed int64
	m, err := lib.importFile(ctx, file, hereHasher(ctx), func(n int64) { hashed = n })
	if err != nil {
		t.Fatal(err)
	}
	want := swarm.NewManifest("whole.bin", "application/x-test", int64(len(data)), swarm.HashRun(nil, data, swarm.ChunkSize(int64(len(data)))))
	if m.Digest != want.Digest || m.NumChunks() != 4 || hashed != int64(len(data)) {
		t.Fatalf("shared: %s, %d chunks, %d bytes hashed; want %s, 4 chunks, %d", m.Digest, m.NumChunks(), hashed, want.Digest, len(data))
	}

	whole, err := lib.contents(ctx, m.Digest)
	if err != nil || whole.IsUndefined() || whole.Get("size").Int() != len(data) {
		t.Fatalf("the shared file is not stored whole (%v)", err)
	}
	c, err := lib.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	have, err := c.Have(ctx)
	if err != nil || have.Count() != m.NumChunks() {
		t.Fatalf("have %d of %d chunks (%v)", have.Count(), m.NumChunks(), err)
	}
	for i := range m.NumChunks() {
		got, err := c.ReadChunk(ctx, i)
		off := int64(i) * m.ChunkSize
		if err != nil || !bytes.Equal(got, data[off:off+int64(m.ChunkLen(i))]) {
			t.Fatalf("chunk %d: %d bytes, %v", i, len(got), err)
		}
	}
	blob, err := lib.fileBlob(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := await(ctx, blob.Call("arrayBuffer"))
	if err != nil || !bytes.Equal(bytesFromJS(saved, nil), data) || blob.Get("type").String() != "application/x-test" {
		t.Fatalf("saved file differs (%v)", err)
	}

	if err := lib.Remove(ctx, m.Digest); err != nil {
		t.Fatal(err)
	}
	if whole, err := lib.contents(ctx, m.Digest); err != nil || !whole.IsUndefined() {
		t.Fatalf("after Remove the file is still stored (%v)", err)
	}
	if files, err := lib.Files(ctx); err != nil || len(files) != 0 {
		t.Fatalf("after Remove: %d files (%v)", len(files), err)
	}
}
