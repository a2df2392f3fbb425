package swarm

import "errors"

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
	// ErrClosed means the peer or connection was closed.
	ErrClosed = errors.New("swarm: closed")
)

// Errors a download can end with, worded for the person who started it.
var (
	// ErrNoTracker means the tracker could not be reached.
	ErrNoTracker = errors.New("tracker unreachable")
	// ErrNoPeers means no peer holds the file.
	ErrNoPeers = errors.New("no peer has this file")
)
