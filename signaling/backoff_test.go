package signaling

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const lo, hi = 250 * time.Millisecond, 10 * time.Second
	for attempt := range 12 {
		want := min(lo<<attempt, hi)
		for range 50 {
			d := backoff(lo, hi, attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v, want %v to %v", attempt, d, want/2, want)
			}
		}
	}
	if d := backoff(lo, hi, 1000); d > hi {
		t.Errorf("attempt 1000: %v, want at most %v", d, hi)
	}
}

func TestErrorIsError(t *testing.T) {
	var err error = &Error{Code: CodeUnknownFile, Message: "no peer"}
	if got := err.Error(); got != "tracker: unknown_file: no peer" {
		t.Errorf("Error() = %q", got)
	}
}
