package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestLANPage checks the harness itself: the app loads under a name that is
// not localhost, so the page is not a secure context and crypto.subtle is
// absent, as on a LAN, and the peer verifies chunks with the page's wasm
// SHA-256 (hash-wasm) rather than Go's; and the page's console and uncaught exceptions reach
// the test log.
func TestLANPage(t *testing.T) {
	e := newEnv(t)
	p := e.newPerson(t, "alice", "/")

	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	type view struct {
		Host          string `json:"host"`
		SecureContext bool   `json:"secureContext"`
		Subtle        string `json:"subtle"`
	}
	v, err := evalJS[view](ctx, `({
		host: location.hostname,
		secureContext: window.isSecureContext,
		subtle: typeof (window.crypto && window.crypto.subtle),
	})`)
	if err != nil {
		t.Fatal(err)
	}
	if v.Host != appHost {
		t.Errorf("page host is %q, want %q", v.Host, appHost)
	}
	if v.SecureContext {
		t.Errorf("window.isSecureContext is true on http://%s, want false (a LAN page)", appHost)
	}
	if v.Subtle != "undefined" {
		t.Errorf("typeof crypto.subtle is %q, want undefined outside a secure context", v.Subtle)
	}
	p.waitConsole(t, "chunk_sha256=hash-wasm", 10*time.Second)

	probe := fmt.Sprintf("e2e-probe-%d", time.Now().UnixNano())
	if _, err := evalJS[string](ctx, `console.log("`+probe+`", 42); setTimeout(() => { throw new Error("`+probe+`-thrown") }); "ok"`); err != nil {
		t.Fatal(err)
	}
	if got := p.waitConsole(t, probe+" 42", 10*time.Second); got != "log: "+probe+" 42" {
		t.Errorf("forwarded console line is %q", got)
	}
	p.waitConsole(t, "exception: ", 10*time.Second)
	p.waitConsole(t, probe+"-thrown", 10*time.Second)
}
