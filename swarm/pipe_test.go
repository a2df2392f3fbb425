package swarm

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPipeBlocksAFullDirection: a Send past the limit waits for the far
// end to read, and Close ends both ends after what was sent is read.
func TestPipeBlocksAFullDirection(t *testing.T) {
	a, b := Pipe(10)
	ctx := context.Background()
	if err := a.Send(ctx, make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := a.Send(short, make([]byte, 8)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send past the limit: %v, want it to wait", err)
	}
	sent := make(chan error)
	go func() { sent <- a.Send(ctx, []byte("x")) }()
	if m, err := b.Recv(ctx); err != nil || len(m) != 8 {
		t.Fatalf("recv: %d bytes, %v", len(m), err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	a.Close()
	if m, err := b.Recv(ctx); err != nil || string(m) != "x" {
		t.Fatalf("recv after close: %q, %v; want what was sent", m, err)
	}
	if _, err := b.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("recv: %v, want ErrClosed", err)
	}
	if err := b.Send(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("send: %v, want ErrClosed", err)
	}
}

// TestPipeSendKeepsNothing: a Pipe queues a copy of what is sent, as a
// data channel does, so the sender may reuse its buffer at once (the
// engine sends every block of an upload from one buffer).
func TestPipeSendKeepsNothing(t *testing.T) {
	a, b := Pipe(0)
	ctx := context.Background()
	buf := []byte("first")
	if err := a.Send(ctx, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "later")
	if m, err := b.Recv(ctx); err != nil || string(m) != "first" {
		t.Fatalf("recv: %q, %v; want what was sent, not what the buffer holds now", m, err)
	}
}
