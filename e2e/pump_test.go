package e2e

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestReceivePump drives the page's receive pump (receiveBatched in
// static/app.js) with made-up data channel messages: a 32 KiB block
// waits for its batch; a small control frame goes to the peer at once,
// with the block before it; 1 MiB of blocks goes as one batch; and a
// block left alone goes once its wait is over.
func TestReceivePump(t *testing.T) {
	e := newEnv(t)
	p := e.newPerson(t, "alice", "/")
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	type run struct {
		Seen  []int   `json:"seen"`
		Calls [][]int `json:"calls"` // each call: the messages' sizes, then the bytes it was told
	}
	got, err := evalJS[run](ctx, `(() => {
		const ch = {}, calls = [], seen = [];
		window.pumpCalls = calls;
		window.pumpStop = receiveBatched(ch, (batch, n) => calls.push(batch.map((b) => b.byteLength).concat([n])));
		const msg = (n) => ch.onmessage({ data: new ArrayBuffer(n) });
		msg(32768); seen.push(calls.length);
		msg(9); seen.push(calls.length);
		for (let i = 0; i < 32; i++) msg(32768);
		seen.push(calls.length);
		msg(32768); seen.push(calls.length);
		return { seen, calls };
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 2}; !reflect.DeepEqual(got.Seen, want) {
		t.Fatalf("deliveries after each step: %v, want %v (block waits, control frame flushes, 1 MiB flushes, block waits)", got.Seen, want)
	}
	if want := []int{32768, 9, 32777}; !reflect.DeepEqual(got.Calls[0], want) {
		t.Errorf("first delivery %v, want %v", got.Calls[0], want)
	}
	if c := got.Calls[1]; len(c) != 33 || c[32] != 1<<20 {
		t.Errorf("second delivery: %d messages of %d bytes, want 32 of 1 MiB", len(c)-1, c[len(c)-1])
	}
	err = poll(ctx, 5*time.Second, 5*time.Millisecond, func(ctx context.Context) (bool, error) {
		last, err := evalJS[[]int](ctx, `pumpCalls.length > 2 ? pumpCalls[2] : []`)
		if err != nil || len(last) == 0 {
			return false, err
		}
		if want := []int{32768, 32768}; !reflect.DeepEqual(last, want) {
			t.Fatalf("third delivery %v, want %v", last, want)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the lone block was never delivered: %v", err)
	}
	if _, err := evalJS[bool](ctx, `pumpStop(), true`); err != nil {
		t.Fatal(err)
	}
}
