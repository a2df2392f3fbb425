package natsbus

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// Formats of the embedded server's route messages that serverLog reads.
const (
	routeConnErr     = "Error trying to connect to route (attempt %v): %v"
	routeConnCreated = "Route connection created (%s)"
)

// routeFailEvery is how often, at most, serverLog repeats that a route
// still cannot connect.
const routeFailEvery = time.Minute

// routeQuiet is how long after a route's last failure its next one counts
// as a new outage, in case its reconnection went unseen (a route named by
// host name connects under that name, but fails under its address).
const routeQuiet = 30 * time.Second

// serverLog passes the embedded server's notices, warnings and errors to a
// slog.Logger. A route that cannot connect (its node died) is retried
// about every second by each of the route's connections, each logging an
// error: serverLog logs the first failure of a route as a warning, then
// at most once per routeFailEvery, and says when it reconnects.
type serverLog struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	routes map[string]*routeDown // by the address dialled
}

// routeDown is a route that has failed to connect since first.
type routeDown struct {
	first, logged, last time.Time
	attempts            int // failed attempts since first, of all its connections
}

func newServerLog(log *slog.Logger, now func() time.Time) *serverLog {
	return &serverLog{log: log, now: now, routes: map[string]*routeDown{}}
}

// Noticef logs a notice at debug level, and notes a route that connects.
func (l *serverLog) Noticef(format string, v ...any) {
	if strings.HasSuffix(format, routeConnCreated) && len(v) > 0 {
		l.routeUp(fmt.Sprint(v[len(v)-1]))
	}
	l.log.Debug("nats: " + fmt.Sprintf(format, v...))
}

// Warnf logs a warning.
func (l *serverLog) Warnf(format string, v ...any) { l.log.Warn("nats: " + fmt.Sprintf(format, v...)) }

// Fatalf logs an error: the server stops itself after a fatal one.
func (l *serverLog) Fatalf(format string, v ...any) {
	l.log.Error("nats: " + fmt.Sprintf(format, v...))
}

// Debugf drops the server's debug lines.
func (l *serverLog) Debugf(string, ...any) {}

// Tracef drops the server's trace lines.
func (l *serverLog) Tracef(string, ...any) {}

// Errorf logs an error, except a route's failures to connect, which it
// rate-limits (routeFailed).
func (l *serverLog) Errorf(format string, v ...any) {
	if format == routeConnErr && len(v) == 2 {
		if err, ok := v[1].(error); ok {
			l.routeFailed(err)
			return
		}
	}
	l.log.Error("nats: " + fmt.Sprintf(format, v...))
}

// routeFailed notes a failed attempt to connect a route and logs it if it
// is the route's first or routeFailEvery has passed since the last log.
func (l *serverLog) routeFailed(err error) {
	addr := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		addr = op.Addr.String()
	}
	now := l.now()
	l.mu.Lock()
	r := l.routes[addr]
	if r == nil || now.Sub(r.last) > routeQuiet {
		r = &routeDown{first: now}
		l.routes[addr] = r
	}
	r.attempts++
	r.last = now
	first := r.attempts == 1
	due := first || now.Sub(r.logged) >= routeFailEvery
	if due {
		r.logged = now
	}
	attempts, since := r.attempts, now.Sub(r.first)
	l.mu.Unlock()
	switch {
	case first:
		l.log.Warn("nats: cannot connect to route; retrying", "route", addr, "err", err)
	case due:
		l.log.Warn("nats: still cannot connect to route; retrying", "route", addr, "attempts", attempts, "down", since.Round(time.Second), "err", err)
	}
}

// routeUp logs that a route which had failed to connect is connected.
func (l *serverLog) routeUp(addr string) {
	l.mu.Lock()
	r := l.routes[addr]
	delete(l.routes, addr)
	l.mu.Unlock()
	if r != nil {
		l.log.Info("nats: route reconnected", "route", addr, "failed_attempts", r.attempts, "down", l.now().Sub(r.first).Round(time.Second))
	}
}
