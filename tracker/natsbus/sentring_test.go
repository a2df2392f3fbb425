package natsbus

import "testing"

// TestSentRing: a refusal callback is handed out once, and not at all once
// sentRingSize later sends have reused its place.
func TestSentRing(t *testing.T) {
	var r sentRing
	called := 0
	first := r.add(func([]byte, error) { called++ })
	second := r.add(func([]byte, error) { called += 10 })
	if f := r.take(second); f == nil {
		t.Fatal("take of the latest send found nothing")
	} else {
		f(nil, nil)
	}
	if r.take(second) != nil {
		t.Fatal("a callback was handed out twice")
	}
	for range sentRingSize - 1 {
		r.add(func([]byte, error) {})
	}
	if r.take(first) != nil {
		t.Fatal("a send whose place was reused still has its callback")
	}
	if called != 10 {
		t.Fatalf("callbacks ran %d, want only the second's", called)
	}
}
