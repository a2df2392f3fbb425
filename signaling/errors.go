package signaling

import "errors"

// Sentinel errors. The Client wraps them with context; test with errors.Is.
// A TypeError reply from the tracker is returned as *Error instead (use
// errors.As).
var (
	// ErrNotConnected means the Client has no live connection to the
	// tracker: it is dialling, backing off, or Run is not running.
	ErrNotConnected = errors.New("signaling: not connected")
	// ErrConnectionLost means the connection dropped while a Request waited
	// for its reply. The request may or may not have reached the tracker.
	ErrConnectionLost = errors.New("signaling: connection lost")
	// ErrBadURL means the tracker URL is not a ws:// or wss:// URL.
	ErrBadURL = errors.New("signaling: bad tracker URL")
	// ErrTooLarge means a message encodes to more than MaxMessageBytes.
	ErrTooLarge = errors.New("signaling: message too large")
	// ErrProtocol means the tracker broke the protocol, for example by not
	// starting with a welcome or by sending a frame that is not a Message.
	ErrProtocol = errors.New("signaling: protocol violation")
	// ErrBadName means a peer name is not UTF-8 or too long; see
	// CleanName.
	ErrBadName = errors.New("signaling: bad peer name")
	// ErrRunning means Run was called on a Client that has already run.
	ErrRunning = errors.New("signaling: Run called twice")
)
