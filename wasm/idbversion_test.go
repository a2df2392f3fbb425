//go:build js

package main

import (
	"context"
	"syscall/js"
	"testing"
	"time"

	"tabswarm/swarm"
)

// needIDB skips t where there is no IndexedDB (Node); e2e's
// TestIndexedDBConformance runs these tests in Chromium.
func needIDB(t *testing.T) {
	if js.Global().Get("indexedDB").IsUndefined() {
		t.Skip("no IndexedDB here (Node); e2e runs this test in Chromium")
	}
}

// tempDB opens a fresh database called name, deleted when t ends.
func tempDB(t *testing.T, name string, ev dbEvents) *idbLibrary {
	t.Helper()
	lib, err := openDB(context.Background(), name, ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lib.db.Call("close")
		js.Global().Get("indexedDB").Call("deleteDatabase", name)
	})
	return lib
}

// TestClosedConnectionIsAnError: once the connection is closed (as when a
// newer page takes the database over), every store call returns an error;
// none throws a JS exception that would stop the peer.
func TestClosedConnectionIsAnError(t *testing.T) {
	needIDB(t)
	ctx := context.Background()
	lib := tempDB(t, "tabswarm-test-closed", dbEvents{})
	data := []byte("one small chunk")
	m := swarm.NewManifest("c.bin", "", int64(len(data)), []swarm.Hash{swarm.HashChunk(data)})
	c, err := lib.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteChunk(ctx, 0, data); err != nil {
		t.Fatal(err)
	}
	lib.db.Call("close")
	if _, err := c.Have(ctx); err == nil {
		t.Error("Have on a closed connection: no error")
	}
	if _, err := c.ReadChunk(ctx, 0); err == nil {
		t.Error("ReadChunk on a closed connection: no error")
	}
	if err := c.WriteChunk(ctx, 0, data); err == nil {
		t.Error("WriteChunk on a closed connection: no error")
	}
	if _, err := lib.Files(ctx); err == nil {
		t.Error("Files on a closed connection: no error")
	}
	if err := lib.Remove(ctx, m.Digest); err == nil {
		t.Error("Remove on a closed connection: no error")
	}
}

// openRaw opens name at version from JS, as another tab would, and
// returns the open request's outcome: "success", "blocked" first, or
// "error".
func openRaw(t *testing.T, name string, version int) (req js.Value, outcome chan string) {
	t.Helper()
	outcome = make(chan string, 4)
	req = js.Global().Get("indexedDB").Call("open", name, version)
	for _, ev := range []string{"success", "blocked", "error"} {
		fn := js.FuncOf(func(this js.Value, args []js.Value) any {
			outcome <- ev
			return nil
		})
		t.Cleanup(fn.Release)
		req.Set("on"+ev, fn)
	}
	return req, outcome
}

func waitFor(t *testing.T, what string, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("%s: %s, want %s", what, got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s, want %s", what, want)
	}
}

// TestNewerVersionClosesConnection: another tab opening the database at a
// newer version is not kept waiting; this connection closes and says so.
func TestNewerVersionClosesConnection(t *testing.T) {
	needIDB(t)
	const name = "tabswarm-test-upgrade"
	closed := make(chan string, 1)
	lib := tempDB(t, name, dbEvents{Closed: func() { closed <- "closed" }})
	req, outcome := openRaw(t, name, dbVersion+1)
	waitFor(t, "the newer open", outcome, "success")
	req.Get("result").Call("close")
	waitFor(t, "this connection", closed, "closed")
	if _, err := lib.Files(context.Background()); err == nil {
		t.Fatal("the library still works on a closed connection")
	}
}

// TestBlockedOpenSaysSo: a connection at an older version that does not
// let go (an old tab) blocks the open, which says so, and the open
// completes once that connection closes.
func TestBlockedOpenSaysSo(t *testing.T) {
	needIDB(t)
	const name = "tabswarm-test-blocked"
	old, outcome := openRaw(t, name, 1)
	waitFor(t, "the old open", outcome, "success")
	blocked := make(chan string, 1)
	opened := make(chan error, 1)
	go func() {
		lib, err := openDB(context.Background(), name, dbEvents{Blocked: func() { blocked <- "blocked" }})
		if err == nil {
			lib.db.Call("close")
		}
		opened <- err
	}()
	waitFor(t, "the new open", blocked, "blocked")
	select {
	case err := <-opened:
		t.Fatalf("the open completed (%v) while the old connection was open", err)
	default:
	}
	old.Get("result").Call("close")
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the open did not complete once the old connection closed")
	}
	js.Global().Get("indexedDB").Call("deleteDatabase", name)
}
