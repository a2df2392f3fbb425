package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Tracker is the swarm registry, signalling server and app server. Create it
// with New, then either Serve it or mount Handler and Close it when done.
type Tracker struct {
	opts    Options
	log     *slog.Logger
	bus     Bus    // soloBus unless clustered
	node    string // bus.NodeID(), the suffix of this node's peer IDs
	reg     *registry
	app     *assets
	dash    *dashboard
	metrics *metrics
	stats   stats
	started time.Time
	handler http.Handler

	ctx    context.Context // parent of every connection; cancelled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	active int            // WebSocket connections being served
	perIP  map[string]int // WebSocket connections by client address key
	conns  sync.WaitGroup // one per active connection, stream or handler

	lane     *bigLane // frames over smallFrame
	requests *quota   // plain HTTP requests in flight
	streams  *quota   // /api/stats/events streams being served

	handlers sync.Once // starts the handler goroutines (startHandlers)
	jobs     chan job  // to the handler goroutines
}

// New returns a Tracker; see Options for the defaults.
func New(opts Options) *Tracker {
	opts = opts.withDefaults()
	bus := opts.Bus
	if bus == nil {
		bus = soloBus{node: NewNodeID()}
	}
	t := &Tracker{
		opts:    opts,
		log:     opts.Logger,
		bus:     bus,
		node:    bus.NodeID(),
		reg:     newRegistry(opts, bus, opts.Bus != nil),
		app:     newAssets(opts.App, opts.Logger),
		dash:    newDashboard(),
		started: time.Now(),
		perIP:   make(map[string]int),
	}
	t.lane = newBigLane(opts.MaxBigFrames)
	t.requests = newQuota("requests in flight", opts.MaxConcurrentRequests, opts.MaxRequestsPerIP)
	t.streams = newQuota("stats streams", opts.MaxStatsStreams, opts.MaxStatsStreamsPerIP)
	t.metrics = newMetrics(t)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.jobs = make(chan job)
	t.handler = t.routes()
	bus.Attach(busNode{t})
	return t
}

// Handler returns the tracker's HTTP handler: the WebSocket, the API and the
// app. Whoever serves it calls Close when done, which ends the connections
// and the tracker's own goroutines.
func (t *Tracker) Handler() http.Handler { return t.handler }

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting, lets plain requests finish (up to 10s), closes every
// WebSocket with "going away" and waits for their goroutines. It returns nil
// after a shutdown caused by ctx, and closes the Tracker in any case.
func (t *Tracker) Serve(ctx context.Context, ln net.Listener) error {
	t.app.check()
	srv := &http.Server{
		Handler:           t.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(t.log.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for handlers, and stats streams never end on their
	// own: end them (and refuse new connections) as it starts.
	srv.RegisterOnShutdown(t.stop)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	t.log.Info("tracker: serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		t.Close()
		return fmt.Errorf("tracker: serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	t.Close()
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("tracker: shutting down: %w", err)
	}
	t.log.Info("tracker: stopped")
	return nil
}

// Close disconnects every peer, refuses new WebSocket connections and waits
// until every connection goroutine has ended. It is idempotent and returns
// nil.
func (t *Tracker) Close() error {
	t.stop()
	t.conns.Wait()
	return nil
}

// stop refuses new connections and tells every connection to end.
func (t *Tracker) stop() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
}

// admit counts a new WebSocket connection from client address key ip in,
// unless the tracker is closed or full or ip has MaxConnsPerIP; the caller
// must then call release.
func (t *Tracker) admit(ip string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return ErrClosed
	case t.active >= t.opts.MaxPeers:
		return fmt.Errorf("%w: %d peers connected, the limit", errFull, t.active)
	case t.perIP[ip] >= t.opts.MaxConnsPerIP:
		return fmt.Errorf("%w: %d connections from %s, the limit", errPerIP, t.perIP[ip], ip)
	}
	t.active++
	t.perIP[ip]++
	t.conns.Add(1)
	return nil
}

// release counts a WebSocket connection from ip out.
func (t *Tracker) release(ip string) {
	t.mu.Lock()
	t.active--
	if t.perIP[ip]--; t.perIP[ip] <= 0 {
		delete(t.perIP, ip) // the map holds only addresses with connections
	}
	t.mu.Unlock()
	t.conns.Done()
}

// admitStream counts a stats stream from client address key ip in, like
// admit.
func (t *Tracker) admitStream(ip string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if err := t.streams.take(ip); err != nil {
		return err
	}
	t.conns.Add(1)
	return nil
}

func (t *Tracker) releaseStream(ip string) {
	t.streams.give(ip)
	t.conns.Done()
}
