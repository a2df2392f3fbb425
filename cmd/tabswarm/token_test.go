package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is an HTTP server on loopback that refuses every request and
// keeps what each carried.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // each request's URL and headers, as text
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		r.Clone(context.Background()).Write(&b)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, b.String())
		rec.mu.Unlock()
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.reqs...)
}

// A token goes only to the tracker named by --tracker or TABSWARM_TRACKER,
// in an Authorization header; a host a link names never gets it, and no
// log or error prints it.
func TestTokenStaysHome(t *testing.T) {
	shortTimeouts(t)
	t.Setenv("TABSWARM_TOKEN", "s3cret")
	digest := strings.Repeat("ab", 32)

	other := newRecorder(t)
	_, stderr, err := runCmd(t, "get", other.URL+"/#"+digest, "-v")
	if exitCode(err) != 3 {
		t.Errorf("get from a link's host: %v (exit %d), want exit 3", err, exitCode(err))
	}
	reqs := other.requests()
	if len(reqs) == 0 {
		t.Fatal("get never dialled the link's host")
	}
	for _, r := range reqs {
		if strings.Contains(r, "s3cret") {
			t.Errorf("the link's host got the token:\n%s", r)
		}
	}
	if strings.Contains(stderr, "s3cret") || !strings.Contains(stderr, "not sending the token") {
		t.Errorf("stderr:\n%s", stderr)
	}

	home := newRecorder(t)
	t.Setenv("TABSWARM_TRACKER", home.URL)
	_, stderr, _ = runCmd(t, "get", home.URL+"/#"+digest, "-v")
	reqs = home.requests()
	if len(reqs) == 0 || !strings.Contains(reqs[0], "Authorization: Bearer s3cret") || strings.Contains(strings.SplitN(reqs[0], "\n", 2)[0], "s3cret") {
		t.Errorf("the named tracker's requests: %q, want the token in the header only", reqs)
	}
	if strings.Contains(stderr, "s3cret") {
		t.Errorf("stderr holds the token:\n%s", stderr)
	}

	// An unreachable tracker: the dial error, logged with -v, holds no token.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	_, stderr, err = runCmd(t, "get", digest, "--tracker", dead, "-v")
	if exitCode(err) != 3 || strings.Contains(stderr, "s3cret") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable: %v (exit %d); stderr:\n%s", err, exitCode(err), stderr)
	}
}
