//go:build js

package main

import (
	"context"
	"log/slog"
	"syscall/js"
	"testing"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/rtc"
)

// TestBridgeOnChange: window.tabswarm.onchange is called after a change,
// stats() is an object, and an onchange that throws does not stop the
// peer: the next change still calls it.
func TestBridgeOnChange(t *testing.T) {
	conn := rtc.New(rtc.Options{Tracker: "ws://127.0.0.1:1/ws"})
	node := swarm.NewNode(swarm.Options{Connector: conn})
	b := newBridge(node, conn, nil, slog.New(slog.DiscardHandler))
	api := b.export()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.notify(ctx)

	calls := make(chan js.Value, 8)
	record := js.FuncOf(func(_ js.Value, args []js.Value) any {
		calls <- args[0]
		return nil
	})
	defer record.Release()
	// A page handler that reads stats() and throws on its first call.
	onchange := js.Global().Get("Function").New("api", "record", `return function () {
		const s = api.stats();
		record(s);
		if (s.files.length === 1) throw new Error("a page bug");
	}`).Invoke(api, record)
	api.Set("onchange", onchange)

	next := func() js.Value {
		t.Helper()
		select {
		case s := <-calls:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("onchange was not called")
			return js.Value{}
		}
	}
	b.row(swarm.FileStats{Name: "one"})
	s := next()
	if s.Type() != js.TypeObject || s.Get("files").Index(0).Get("name").String() != "one" {
		t.Fatalf("stats() = %v, want an object listing the row", s)
	}
	b.row(swarm.FileStats{Name: "two"})
	if n := next().Get("files").Length(); n != 2 {
		t.Fatalf("stats() lists %d files after the second row, want 2", n)
	}
}
