package tracker

import (
	"context"
	"sync"
)

// smallFrame is the largest frame read and handled in the common path. A
// larger one (a manifest of a file over about 8 GiB, nothing else a
// well-behaved peer sends) waits for the big lane before the rest of it is
// read, so that big frames can neither fill the tracker's memory nor keep
// the handlers from small messages.
const smallFrame = 64 << 10

// bigLane admits big frames: at most a few at once in all
// (Options.MaxBigFrames), and one at a time from each client address, so
// that addresses take turns. Waiting is first come, first served.
type bigLane struct {
	slots chan struct{}

	mu    sync.Mutex
	addrs map[string]*addrTurn // only addresses waiting or in the lane
}

// addrTurn is one address's single place in the lane.
type addrTurn struct {
	turn chan struct{} // capacity 1
	refs int           // connections waiting for it or holding it
}

func newBigLane(n int) *bigLane {
	return &bigLane{slots: make(chan struct{}, n), addrs: make(map[string]*addrTurn)}
}

// enter waits until a big frame from client address key ip may be read and
// handled, or until ctx is done. The caller calls leave once it is handled.
func (l *bigLane) enter(ctx context.Context, ip string) (leave func(), err error) {
	l.mu.Lock()
	a := l.addrs[ip]
	if a == nil {
		a = &addrTurn{turn: make(chan struct{}, 1)}
		l.addrs[ip] = a
	}
	a.refs++
	l.mu.Unlock()
	drop := func() {
		l.mu.Lock()
		if a.refs--; a.refs == 0 {
			delete(l.addrs, ip)
		}
		l.mu.Unlock()
	}
	select {
	case a.turn <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, context.Cause(ctx)
	}
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		<-a.turn
		drop()
		return nil, context.Cause(ctx)
	}
	return func() {
		<-l.slots
		<-a.turn
		drop()
	}, nil
}
