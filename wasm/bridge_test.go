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
	"tabswarm/swarm/swarmtest"
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

// TestBridgeMilestoneAtOnce: a milestone (here a file the node starts
// to get) reaches the page at once, not after the interval between two
// onchange calls.
func TestBridgeMilestoneAtOnce(t *testing.T) {
	conn := rtc.New(rtc.Options{Tracker: "ws://127.0.0.1:1/ws"})
	node := swarm.NewNode(swarm.Options{Connector: offline{}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go node.Run(ctx)
	b := newBridge(node, conn, nil, slog.New(slog.DiscardHandler))
	b.interval = time.Hour
	api := b.export()
	calls := make(chan int, 8)
	record := js.FuncOf(func(_ js.Value, _ []js.Value) any {
		calls <- api.Call("stats").Get("files").Length()
		return nil
	})
	defer record.Release()
	api.Set("onchange", record)
	go b.notify(ctx)

	next := func(what string) int {
		t.Helper()
		select {
		case n := <-calls:
			return n
		case <-time.After(5 * time.Second):
			t.Fatalf("onchange was not called after %s", what)
			return 0
		}
	}
	m, _ := swarmtest.Manifest(t, "milestone.bin", 3<<20)
	if _, err := node.Add(ctx, m); err != nil {
		t.Fatal(err)
	}
	next("the first change")
	m2, _ := swarmtest.Manifest(t, "second.bin", 3<<20)
	if _, err := node.Add(ctx, m2); err != nil {
		t.Fatal(err)
	}
	if n := next("a second file came, within an hour-long interval"); n != 2 {
		t.Fatalf("onchange saw %d files, want 2", n)
	}
}

// offline is a Connector with no network, for a node whose files never
// find a peer.
type offline struct{}

func (offline) Run(ctx context.Context, _ swarm.Handler) error {
	<-ctx.Done()
	return nil
}
func (offline) PeerID() string                          { return "offline" }
func (offline) WaitConnected(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (offline) Query(context.Context, swarm.Hash) ([]byte, []string, error) {
	return nil, nil, swarm.ErrNoPeers
}
func (offline) Announce(context.Context, swarm.Announcement) error { return nil }
func (offline) Leave(context.Context, swarm.Hash)                  {}
func (offline) Dial(context.Context, swarm.Hash, string) (swarm.Conn, error) {
	return swarm.Conn{}, swarm.ErrNoPeers
}
