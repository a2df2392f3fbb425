//go:build js

package main

import (
	"context"
	"fmt"
	"syscall/js"
	"testing"

	"tabswarm/swarm"
	"tabswarm/swarm/storetest"
)

// TestIndexedDBLibrary runs the store conformance suite against IndexedDB.
// Node has no IndexedDB, so it runs in the browser: e2e's
// TestIndexedDBConformance loads this test binary into a Chromium tab.
func TestIndexedDBLibrary(t *testing.T) {
	if js.Global().Get("indexedDB").IsUndefined() {
		t.Skip("no IndexedDB here (Node); e2e runs this test in Chromium")
	}
	n := 0
	storetest.Run(t, func(t *testing.T) swarm.Library {
		n++
		name := fmt.Sprintf("tabswarm-test-%d", n)
		lib, err := openDB(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			lib.db.Call("close")
			js.Global().Get("indexedDB").Call("deleteDatabase", name)
		})
		return lib
	})
}
