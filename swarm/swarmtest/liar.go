// Package swarmtest has peers that misbehave, for tests of the peers that
// must cope with them.
package swarmtest

import (
	"bytes"
	"context"

	"tabswarm/swarm"
)

// LyingLibrary holds true chunks, so its node announces and offers whole
// files, but flips a byte in the middle of every chunk it serves.
type LyingLibrary struct{ swarm.MemLibrary }

var _ swarm.Library = (*LyingLibrary)(nil)

type lyingChunks struct{ swarm.Chunks }

// Open implements swarm.Library.
func (l *LyingLibrary) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	c, err := l.MemLibrary.Open(ctx, m)
	return lyingChunks{c}, err
}

func (c lyingChunks) ReadChunk(ctx context.Context, i int) ([]byte, error) {
	b, err := c.Chunks.ReadChunk(ctx, i)
	if err != nil {
		return nil, err
	}
	b = bytes.Clone(b)
	b[len(b)/2] ^= 0xff
	return b, nil
}
