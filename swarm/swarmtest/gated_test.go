package swarmtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"tabswarm/swarm"
)

func TestGatedLibrary(t *testing.T) {
	ctx := context.Background()
	data := make([]byte, 4*swarm.ChunkSize(4<<20))
	for i := range data {
		data[i] = byte(i / 7)
	}
	cs := swarm.ChunkSize(int64(len(data)))
	m := swarm.NewManifest("f", "", int64(len(data)), swarm.HashRun(nil, data, cs))
	var mem swarm.MemLibrary
	st, err := mem.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.NumChunks() {
		if err := st.WriteChunk(ctx, i, data[int64(i)*cs:int64(i+1)*cs]); err != nil {
			t.Fatal(err)
		}
	}
	g := NewGatedLibrary(&mem, 2)
	c, err := g.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{3, 1, 3} {
		if _, err := c.ReadChunk(ctx, i); err != nil {
			t.Fatalf("chunk %d, within the allowance: %v", i, err)
		}
	}
	// A third distinct chunk waits: here until its context ends.
	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.ReadChunk(short, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("chunk 0 past the allowance: got %v, want it held until its context ended", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := c.ReadChunk(ctx, 2)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("chunk 2 was read (%v) before Release", err)
	case <-time.After(50 * time.Millisecond):
	}
	g.Release()
	if err := <-got; err != nil {
		t.Fatalf("chunk 2 after Release: %v", err)
	}
	g.Release()
	if b, err := c.ReadChunk(ctx, 0); err != nil || string(b) != string(data[:cs]) {
		t.Fatalf("chunk 0 after Release: %v", err)
	}
}
