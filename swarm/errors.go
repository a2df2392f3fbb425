package swarm

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrBadDigest means a digest is not 64 hex characters.
	ErrBadDigest = errors.New("swarm: bad digest")
	// ErrBadManifest means a manifest is malformed or does not hash to its digest.
	ErrBadManifest = errors.New("swarm: bad manifest")
	// ErrBadPath means a collection entry's path is not a safe relative path.
	ErrBadPath = errors.New("swarm: bad path in collection")
	// ErrCollection means a .p2t or digest names a collection where one
	// file was expected. It also wraps ErrBadManifest where a manifest was
	// parsed.
	ErrCollection = errors.New("swarm: a collection, not a file")
	// ErrBadChunk means a chunk failed its hash.
	ErrBadChunk = errors.New("swarm: chunk failed verification")
	// ErrNoChunk means a store does not hold the chunk asked for.
	ErrNoChunk = errors.New("swarm: chunk not held")
	// ErrNotFound means the store holds no file with that digest.
	ErrNotFound = errors.New("swarm: file not found")
	// ErrQuota means the store has no room left (a full disk or a browser quota).
	ErrQuota = errors.New("swarm: storage full")
	// ErrProtocol means a peer broke the wire protocol.
	ErrProtocol = errors.New("swarm: protocol violation")
	// ErrClosed means the node, peer or connection was closed.
	ErrClosed = errors.New("swarm: closed")
)

// Errors a download can end with, worded for the person who started it.
var (
	// ErrNoTracker means the tracker could not be reached.
	ErrNoTracker = errors.New("tracker unreachable")
	// ErrNoPeers means no peer holds the file.
	ErrNoPeers = errors.New("no peer has this file")
	// ErrLyingPeer means every peer that had the file's missing chunks
	// sent corrupt data, and no honest one came within Options.LiarGrace.
	ErrLyingPeer = errors.New("every peer that had this file sent corrupt data")
)

// Errors of a Node's lifecycle and of waiting for a file.
var (
	// ErrRunning means Run was called on a node that already ran.
	ErrRunning = errors.New("swarm: already running")
	// ErrRemoved means the file was removed while being waited for.
	ErrRemoved = errors.New("swarm: file removed")
)

// Why the engine drops a peer that is slow to talk.
var (
	// ErrSilent means a peer left its requests without a block for
	// requestTimeout; it is evicted for a while.
	ErrSilent = errors.New("swarm: peer delivered nothing in time")

	errNoHello = fmt.Errorf("%w: no hello within %v", ErrProtocol, requestTimeout)
	errSilent  = fmt.Errorf("%w: no block within %v", ErrSilent, requestTimeout)
	errStuck   = fmt.Errorf("%w: not reading for %v", ErrSilent, requestTimeout)
	errUseless = fmt.Errorf("%w: nothing wanted for %v while the file had no free slot", ErrSilent, requestTimeout)
)
