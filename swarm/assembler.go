package swarm

import "context"

// An Assembler is a Transport that can assemble the chunks this peer
// requests itself, outside Go's memory. In the browser the page's receive
// pump collects a chunk's blocks from the data channel, hashes them and
// makes the Blob the store keeps, so a chunk's bytes never enter the
// module's memory and Go runs once per chunk, not once per block. The
// engine still decides everything else: it checks each digest against the
// manifest, stores only what matches (through its store's BodyWriter),
// and bans a peer that sends a chunk that does not.
//
// The engine uses an Assembler only where its store is a BodyWriter;
// otherwise, and for chunks it never Expects, blocks come to Next as
// messages and the engine assembles them in Go.
type Assembler interface {
	Transport
	// Expect says chunk i, size bytes, has been requested: its blocks,
	// in order from offset 0, are assembled rather than returned. When
	// stale, the blocks of an earlier, withdrawn send of i may come
	// first: one past offset 0 before the first is dropped.
	Expect(i, size int, stale bool)
	// Forget withdraws Expect(i): i's blocks still to come are returned
	// as messages, and a chunk i already assembled may still be.
	Forget(i int)
	// Next returns what came next: a message, a chunk assembled, or
	// only news of blocks taken. Recv is not called on an Assembler.
	Next(ctx context.Context) (Received, error)
}

// Received is one thing an Assembler returns from Next.
type Received struct {
	Msg   []byte     // a wire message, owned by the caller; or nil
	Chunk *Assembled // or a chunk assembled; or nil
	// Taken is the payload of the blocks of Expected chunks taken since
	// the last Received, with or without a Chunk: the peer is making
	// progress.
	Taken int
}

// Assembled is an Assembler's report on an Expected chunk: its digest and
// body once whole, or why its blocks were refused.
type Assembled struct {
	Index  int
	Digest Hash // SHA-256 of the chunk
	// Body holds the chunk's bytes, for the store's WriteBody: in the
	// browser, a Blob. The engine passes it on unread.
	Body any
	// Err, wrapping ErrProtocol, is set when a block came out of order
	// or of the wrong size; Digest and Body are then unset.
	Err error
}

// A BodyWriter is a store (Chunks) that can store a chunk an Assembler
// made.
type BodyWriter interface {
	// WriteBody stores chunk i, held by body (an Assembled's Body). Its
	// errors are WriteChunk's.
	WriteBody(ctx context.Context, i int, body any) error
}

// A BodyReader is a store (Chunks) that can read a chunk as a body kept
// outside Go's memory, for a ChunkSender: in the browser, the chunk's
// bytes as an ArrayBuffer.
type BodyReader interface {
	// ReadBody returns chunk i as a body. Its errors are ReadChunk's.
	ReadBody(ctx context.Context, i int) (body any, err error)
}

// A ChunkSender is a Transport that sends a whole upload itself, every
// block of a chunk from a BodyReader's body, with its own flow control.
// In the browser the page sends the blocks, so Go runs once per chunk
// uploaded, not once per block. The engine uses one only where its store
// is a BodyReader.
type ChunkSender interface {
	Transport
	// SendChunk sends body as messages of up to BlockSize bytes of it,
	// each behind head with its last four bytes set to the block's
	// offset, big-endian (piece frames), and returns once the last is
	// queued. Messages Send queues meanwhile may go between its blocks.
	// It calls progress, from its own goroutine, with the body's bytes
	// queued so far, every fraction of a second and at the end. Ending
	// ctx stops it before its next block. It keeps nothing of head.
	SendChunk(ctx context.Context, head []byte, body any, progress func(sent int)) error
}
