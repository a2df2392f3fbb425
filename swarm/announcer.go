package swarm

import "sync"

// announcer orders the announces of one digest (a file or a collection)
// and its leave: an announce under way finishes before the leave goes
// out, and none is sent after it. Without it a re-announce after a
// reconnection could follow a leave, and the tracker would list the node
// for what it no longer holds.
type announcer struct {
	mu   sync.Mutex
	sent bool // an announce went out: the tracker may have taken it, even if no answer came
	left bool
}

// announce runs send unless the digest was left.
func (a *announcer) announce(send func() error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.left {
		return nil
	}
	a.sent = true
	return send()
}

// leave marks the digest left and runs send if an announce went out.
func (a *announcer) leave(send func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.left = true
	if a.sent {
		send()
	}
}
