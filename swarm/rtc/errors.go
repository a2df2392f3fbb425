package rtc

import "errors"

// ErrTooMany means a connection was refused because this peer has as many
// being set up or open, in that direction or from that peer, as it takes.
var ErrTooMany = errors.New("rtc: too many connections")
