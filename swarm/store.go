package swarm

import (
	"context"
	"math/bits"
)

// Library is the set of files a peer holds, complete or partial. It keeps
// bytes and completion only; the engine verifies every chunk before it
// writes one, so a Library never sees unverified data.
type Library interface {
	// Files returns the manifest of every file held.
	Files(ctx context.Context) ([]*Manifest, error)
	// Open returns the chunk store of m's file, recording m first if the
	// file is new.
	Open(ctx context.Context, m *Manifest) (Chunks, error)
	// Remove deletes a file and all its chunks. Removing an unknown file is
	// not an error.
	Remove(ctx context.Context, d Hash) error
}

// Chunks stores the verified chunks of one file.
type Chunks interface {
	// Have reports which chunks are stored.
	Have(ctx context.Context) (Bitfield, error)
	// ReadChunk returns chunk i, or an error wrapping ErrNoChunk.
	ReadChunk(ctx context.Context, i int) ([]byte, error)
	// WriteChunk stores chunk i. An error wrapping ErrQuota means there is no
	// room; the store is then unchanged.
	WriteChunk(ctx context.Context, i int, data []byte) error
}

// Bitfield records which chunks of a file are held, one bit per chunk, most
// significant bit first as in the wire protocol.
type Bitfield struct {
	n    int
	bits []byte
}

// NewBitfield returns an empty bitfield of n bits.
func NewBitfield(n int) Bitfield { return Bitfield{n: n, bits: make([]byte, (n+7)/8)} }

// BitfieldFromBytes returns a bitfield of n bits read from b, which must be
// exactly (n+7)/8 bytes with the spare low bits of the last byte clear.
func BitfieldFromBytes(n int, b []byte) (Bitfield, bool) {
	if len(b) != (n+7)/8 {
		return Bitfield{}, false
	}
	if n%8 != 0 && b[len(b)-1]&(0xff>>(n%8)) != 0 {
		return Bitfield{}, false
	}
	return Bitfield{n: n, bits: append([]byte(nil), b...)}, true
}

// Len returns the number of bits.
func (b Bitfield) Len() int { return b.n }

// Has reports whether bit i is set.
func (b Bitfield) Has(i int) bool {
	return i >= 0 && i < b.n && b.bits[i/8]&(0x80>>(i%8)) != 0
}

// Set sets bit i.
func (b Bitfield) Set(i int) { b.bits[i/8] |= 0x80 >> (i % 8) }

// Count returns how many bits are set.
func (b Bitfield) Count() int {
	c := 0
	for _, x := range b.bits {
		c += bits.OnesCount8(x)
	}
	return c
}

// Full reports whether every bit is set.
func (b Bitfield) Full() bool { return b.Count() == b.n }

// Bytes returns the wire encoding. The slice is shared with b.
func (b Bitfield) Bytes() []byte { return b.bits }

// Clone returns an independent copy.
func (b Bitfield) Clone() Bitfield { return Bitfield{n: b.n, bits: append([]byte(nil), b.bits...)} }

// Clear clears bit i.
func (b Bitfield) Clear(i int) { b.bits[i/8] &^= 0x80 >> (i % 8) }
