package natsbus

import "sync"

// sentRingSize is how many signals sent without waiting may still get a
// refusal back. A refusal crosses the cluster in milliseconds; one that
// comes after this many later sends finds its place reused and is only
// logged.
const sentRingSize = 1 << 14

// sentRing keeps the refusal callbacks of the latest sentRingSize sends,
// by sequence number, in fixed room: a delivered signal gets no reply, so
// nothing would remove its entry from a map.
type sentRing struct {
	mu   sync.Mutex
	next uint64
	ring [sentRingSize]sentEntry
}

type sentEntry struct {
	seq     uint64
	refused func([]byte, error)
}

// add keeps refused and returns its sequence number.
func (r *sentRing) add(refused func([]byte, error)) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	r.ring[r.next%sentRingSize] = sentEntry{seq: r.next, refused: refused}
	return r.next
}

// take returns seq's callback and forgets it, or nil when it was taken or
// its place reused.
func (r *sentRing) take(seq uint64) func([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := &r.ring[seq%sentRingSize]
	if e.seq != seq {
		return nil
	}
	f := e.refused
	*e = sentEntry{}
	return f
}
