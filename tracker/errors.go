package tracker

import "errors"

// Sentinel errors. The tracker wraps them with context; test with errors.Is.
var (
	// ErrClosed means the Tracker was closed; it serves once.
	ErrClosed = errors.New("tracker: closed")
	// errFull and errPerIP are why a connection was refused.
	errFull  = errors.New("tracker: full")
	errPerIP = errors.New("tracker: too many connections from one address")
	// errSlowPeer is why a connection whose send queue filled was dropped.
	errSlowPeer = errors.New("tracker: peer too slow, send queue full")
)

// ErrNoNode means a Bus has no node by that ID: it never existed, or it
// stopped. A peer ID of that node names no connected peer.
var ErrNoNode = errors.New("tracker: no such node")
