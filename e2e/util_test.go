package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// safeLog forwards lines to tb.Log until tb's cleanup ends, and drops them
// after, so goroutines that outlive the test (console readers, the tracker's
// connection handlers) cannot log into a finished test.
type safeLog struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func newSafeLog(tb testing.TB) *safeLog {
	l := &safeLog{tb: tb}
	// Registered first, so it runs last, after every other cleanup.
	tb.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *safeLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.tb.Logf(format, args...)
	}
}

// writer returns an io.Writer that logs each write as one line with prefix.
func (l *safeLog) writer(prefix string) *prefixWriter {
	return &prefixWriter{log: l, prefix: prefix}
}

type prefixWriter struct {
	log    *safeLog
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.log.logf("%s: %s", w.prefix, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// evalJS evaluates a JavaScript expression in the tab of ctx.
func evalJS[T any](ctx context.Context, js string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](js))
}

// poll calls cond every interval until it returns true or timeout passes.
// An error from cond is taken as transient (a page between two documents
// cannot evaluate); the last one is reported if time runs out.
func poll(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := cond(ctx)
		if ok && err == nil {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// within runs f and waits for it at most d. f keeps running after a timeout;
// the caller fails and its cleanup stops what f waits on.
func within(d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("no answer within %v", d)
	}
}

// sizeTimeout is a deadline for moving size bytes at no less than
// bytesPerSec, plus a fixed minute for set-up on a slow machine.
func sizeTimeout(size int64, bytesPerSec float64) time.Duration {
	return time.Minute + time.Duration(float64(size)/bytesPerSec*float64(time.Second))
}

// httpStatus GETs url within ctx and returns the response's status code.
func httpStatus(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
