package swarmtest

import (
	"context"
	"sync"

	"tabswarm/swarm"
)

// GatedLibrary serves the first Allow distinct chunks peers ask it for,
// then holds every read of another chunk until Release is called or the
// read's context ends. A test whose peer seeds from it knows that a
// download is partway, and stays partway, until it says so: no race
// between acting "mid-transfer" and the transfer ending. Make one with
// NewGatedLibrary.
type GatedLibrary struct {
	swarm.Library

	allow   int
	mu      sync.Mutex
	served  map[gateKey]bool
	open    chan struct{}
	release func()
}

var _ swarm.Library = (*GatedLibrary)(nil)

type gateKey struct {
	d swarm.Hash
	i int
}

// NewGatedLibrary returns lib behind a gate that lets allow distinct chunks
// through, counted over all its files.
func NewGatedLibrary(lib swarm.Library, allow int) *GatedLibrary {
	open := make(chan struct{})
	return &GatedLibrary{
		Library: lib,
		allow:   allow,
		served:  make(map[gateKey]bool),
		open:    open,
		release: sync.OnceFunc(func() { close(open) }),
	}
}

// Release lets every read through from now on. Calling it again is
// harmless.
func (g *GatedLibrary) Release() { g.release() }

// Open implements swarm.Library.
func (g *GatedLibrary) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	c, err := g.Library.Open(ctx, m)
	if err != nil {
		return nil, err
	}
	return gatedChunks{Chunks: c, g: g, d: m.Digest}, nil
}

type gatedChunks struct {
	swarm.Chunks
	g *GatedLibrary
	d swarm.Hash
}

func (c gatedChunks) ReadChunk(ctx context.Context, i int) ([]byte, error) {
	if err := c.g.wait(ctx, gateKey{c.d, i}); err != nil {
		return nil, err
	}
	return c.Chunks.ReadChunk(ctx, i)
}

// wait returns once chunk k may be read: it was let through before, the
// allowance has room for it, or the gate is released.
func (g *GatedLibrary) wait(ctx context.Context, k gateKey) error {
	g.mu.Lock()
	if g.served[k] || len(g.served) < g.allow {
		g.served[k] = true
		g.mu.Unlock()
		return nil
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
