package swarm

import "sync"

// notifier pings its subscribers' channels, each of capacity one, so that
// many changes coalesce into one wake-up for a slow reader.
type notifier struct {
	mu   sync.Mutex
	subs map[chan struct{}]bool
}

func (n *notifier) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.subs == nil {
		n.subs = make(map[chan struct{}]bool)
	}
	n.subs[ch] = true
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.subs, ch)
		n.mu.Unlock()
	}
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		ping(ch)
	}
}
