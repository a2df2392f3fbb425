package swarm_test

import (
	"context"
	"errors"
	"testing"

	"tabswarm/swarm"
	"tabswarm/swarm/storetest"
)

func TestMemLibrary(t *testing.T) {
	storetest.Run(t, func(t *testing.T) swarm.Library { return new(swarm.MemLibrary) })
}

func TestMemLibraryQuota(t *testing.T) {
	ctx := context.Background()
	lib := &swarm.MemLibrary{Limit: 10}
	m := swarm.NewManifest("q", "", 20, []swarm.Hash{swarm.HashChunk(make([]byte, 20))})
	c, _ := lib.Open(ctx, m)
	if err := c.WriteChunk(ctx, 0, make([]byte, 20)); !errors.Is(err, swarm.ErrQuota) {
		t.Fatalf("err = %v, want ErrQuota", err)
	}
	if h, _ := c.Have(ctx); h.Count() != 0 {
		t.Fatal("a failed write left a chunk behind")
	}
}
