package natsbus

import "errors"

// Sentinel errors; Start wraps them with context.
var (
	// ErrConfig means the Options cannot work.
	ErrConfig = errors.New("natsbus: bad options")
	// ErrPayload means the NATS server takes messages smaller than the
	// largest the tracker may send (tracker.MaxBusMessage).
	ErrPayload = errors.New("natsbus: NATS max payload too small")
)
