package tracker

import (
	"fmt"
	"sync"
)

// quota counts holders of a bounded resource (requests in flight, streams)
// against a cap for the whole tracker and a smaller share for each client
// address, so that one address cannot take every slot.
type quota struct {
	what         string // for errors: "requests in flight"
	total, share int

	mu   sync.Mutex
	used int
	by   map[string]int // only keys holding some
}

func newQuota(what string, total, share int) *quota {
	return &quota{what: what, total: total, share: max(1, min(share, total)), by: make(map[string]int)}
}

// take counts one more holder for key, or returns an error wrapping
// errPerIP (key's share is used) or errFull (the whole cap is); the caller
// gives it back with give.
func (q *quota) take(key string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.by[key] >= q.share:
		return fmt.Errorf("%w: %d %s from %s, the limit", errPerIP, q.by[key], q.what, key)
	case q.used >= q.total:
		return fmt.Errorf("%w: %d %s, the limit", errFull, q.used, q.what)
	}
	q.used++
	q.by[key]++
	return nil
}

// give counts one holder for key out.
func (q *quota) give(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.used--
	if q.by[key]--; q.by[key] <= 0 {
		delete(q.by, key)
	}
}
