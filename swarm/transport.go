package swarm

import "context"

// Transport carries wire frames, one per message, over a reliable ordered
// channel between two peers. A Connector produces them: a WebRTC data
// channel in swarm/rtc, or an in-memory Pipe.
type Transport interface {
	// Send queues b, blocking while too much is already buffered. It
	// keeps nothing of b once it returns (it copies what it queues), so
	// the caller may reuse b at once: the engine sends every block of
	// its uploads from one buffer.
	Send(ctx context.Context, b []byte) error
	// Recv returns the next message. The caller owns it.
	Recv(ctx context.Context) ([]byte, error)
	// Close ends the transport: blocked and later Sends return ErrClosed,
	// and so does Recv, at either end, once what was sent before is read.
	Close() error
}
