package natsbus

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// routeDialErr is the error the server reports when a route's node is down.
func routeDialErr(port int) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, Err: syscall.ECONNREFUSED}
}

// TestServerLogRouteFailures feeds the adapter what a node logs while a
// route's node is down for three minutes (three connections of the route
// pool retrying every second) and after it comes back: one warning at
// first, one a minute, none at error level, and a line when it reconnects.
func TestServerLogRouteFailures(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newServerLog(slog.New(slog.NewTextHandler(&out, nil)), func() time.Time { return now })
	for sec := range 180 {
		now = now.Add(time.Second)
		for range 3 {
			l.Errorf(routeConnErr, sec+1, routeDialErr(7001))
		}
		if sec == 100 {
			l.Errorf(routeConnErr, 1, routeDialErr(7002))
		}
	}
	l.Noticef("127.0.0.1:7001 - rid:9 - "+routeConnCreated, "127.0.0.1:7001")
	l.Errorf("Error parsing URL from INFO: %v\n", "bad")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	count := func(sub string) (n int) {
		for _, ln := range lines {
			if strings.Contains(ln, sub) {
				n++
			}
		}
		return n
	}
	if n := count("level=WARN msg=\"nats: cannot connect to route; retrying\" route=127.0.0.1:7001"); n != 1 {
		t.Errorf("%d first warnings for the route, want 1:\n%s", n, out.String())
	}
	if n := count("still cannot connect to route; retrying\" route=127.0.0.1:7001"); n != 2 {
		t.Errorf("%d repeated warnings in three minutes, want 2 (one a minute):\n%s", n, out.String())
	}
	if n := count("route=127.0.0.1:7002"); n != 1 {
		t.Errorf("the other route logged %d times, want once:\n%s", n, out.String())
	}
	if n := count("level=INFO msg=\"nats: route reconnected\" route=127.0.0.1:7001 failed_attempts=540 down=2m59s"); n != 1 {
		t.Errorf("no line saying the route reconnected:\n%s", out.String())
	}
	if n := count("level=ERROR"); n != 1 || !strings.Contains(out.String(), "Error parsing URL from INFO") {
		t.Errorf("other errors must stay errors, route failures must not be:\n%s", out.String())
	}
	if len(lines) != 6 {
		t.Errorf("%d lines, want 6:\n%s", len(lines), out.String())
	}

	// Once reconnected, the route's next failure is a first failure again.
	out.Reset()
	l.Errorf(routeConnErr, 1, routeDialErr(7001))
	if !strings.Contains(out.String(), "nats: cannot connect to route; retrying") {
		t.Errorf("a new outage is not announced:\n%s", out.String())
	}
	// So is one that follows a quiet spell, even if the reconnection went
	// unseen (7002 never said it reconnected).
	out.Reset()
	now = now.Add(routeQuiet + time.Second)
	l.Errorf(routeConnErr, 1, routeDialErr(7002))
	if !strings.Contains(out.String(), "nats: cannot connect to route; retrying\" route=127.0.0.1:7002") {
		t.Errorf("a new outage after a quiet spell is not announced as one:\n%s", out.String())
	}
}
