//go:build !js

package signaling

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// A native Client sends its token in an Authorization header, never in the
// URL, and nothing it logs holds it.
func TestTokenInHeader(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		http.Error(w, "private", http.StatusUnauthorized)
	}))
	defer srv.Close()
	var logs syncBuffer
	c := NewClient("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", Options{
		Token:      "s3cret",
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MinBackoff: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		for {
			mu.Lock()
			n := len(seen)
			mu.Unlock()
			if n >= 2 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	c.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 {
		t.Fatalf("%d dials seen", len(seen))
	}
	for _, r := range seen {
		if got := r.Header.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("Authorization %q, want the token as a bearer", got)
		}
		if strings.Contains(r.URL.String(), "s3cret") {
			t.Errorf("the token is in the URL %s", r.URL)
		}
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the logs hold the token:\n%s", logs.String())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"ws://h:1/ws?token=s3cret":                     "ws://h:1/ws?token=REDACTED",
		"ws://h/ws?a=1&token=s3cret&b=2":               "ws://h/ws?a=1&token=REDACTED&b=2",
		`Get "ws://h/ws?token=s3cret": dial tcp: oops`: `Get "ws://h/ws?token=REDACTED": dial tcp: oops`,
		"http://alice:pw@h/x":                          "http://alice:REDACTED@h/x",
		"http://h/x?notoken=1":                         "http://h/x?notoken=1",
		"no url here":                                  "no url here",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
