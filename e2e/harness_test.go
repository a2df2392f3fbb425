// Package e2e drives tabswarm end to end: a real tracker in this process, one
// headless Chromium, and one browser context per simulated person, so that
// each person has separate IndexedDB storage and a separate download folder.
//
// The app is loaded as http://tabswarm.test:PORT/, a name that Chromium maps
// to 127.0.0.1 with --host-resolver-rules, so the page runs outside a secure
// context exactly as it does on a LAN (crypto.subtle is absent). Nothing but
// loopback is served or dialled; WebRTC host candidates on the machine's own
// interface stay on the machine.
//
// Run `make build` first: the tracker embeds static/dist/tabswarm.wasm.
// Chromium is /usr/bin/chromium or $CHROMIUM. Every page's console and
// uncaught exceptions are forwarded to the test log, prefixed by the person's
// name; run with -v to see them for passing tests too.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tabswarm/static"
	"tabswarm/tracker"
)

// appHost is the name the page is loaded under; Chromium resolves it to
// 127.0.0.1 and nothing else.
const appHost = "tabswarm.test"

// Timeouts sized for a 2-core machine, where compiling the ~8 MB wasm peer
// takes a few seconds per browser context.
const (
	browserStartTimeout = 60 * time.Second
	pageReadyTimeout    = 90 * time.Second
	stepTimeout         = 60 * time.Second // clicks, typing, small waits
)

// env is one test's world: a tracker on 127.0.0.1:0 and one Chromium.
type env struct {
	tb      testing.TB
	log     *safeLog
	base    string // http://tabswarm.test:PORT, no trailing slash
	tracker *trackerServer
	browser context.Context // first chromedp context: owns the Chromium process
}

// newEnv starts a tracker and a browser for tb; both stop in tb's cleanup.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvWith(tb, tracker.Options{})
}

// newEnvWith is newEnv with a tracker configured by opts.
func newEnvWith(tb testing.TB, opts tracker.Options) *env {
	tb.Helper()
	exe := chromiumPath(tb)
	requireBuild(tb)

	lg := newSafeLog(tb)
	e := &env{tb: tb, log: lg}
	e.tracker = startTracker(tb, lg, opts)
	e.base = fmt.Sprintf("http://%s:%d", appHost, e.tracker.port)
	e.browser = startBrowser(tb, lg, exe)
	return e
}

// chromiumPath finds Chromium, or skips the test (fails it under CI).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	return findBrowser(tb, "Chromium", "CHROMIUM", "chromium", "/usr/bin/chromium", "chromium")
}

// findBrowser returns $envVar (which must exist) when set, else the first
// of names found as a path or on $PATH; without one it skips the test, or
// fails it under CI, saying to apt-get install pkg.
func findBrowser(tb testing.TB, what, envVar, pkg string, names ...string) string {
	tb.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("%s=%s: %v", envVar, p, err)
		}
		return p
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("install %s: apt-get install %s (or set %s to its path)", what, pkg, envVar)
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s not found under CI; %s", what, msg)
	}
	tb.Skip(msg)
	return ""
}

// requireBuild fails unless `make build` has put the app into static/dist.
func requireBuild(tb testing.TB) {
	tb.Helper()
	for _, name := range []string{"dist/tabswarm.wasm", "dist/hasher.wasm", "dist/wasm_exec.js"} {
		if _, err := fs.Stat(static.FS, name); err != nil {
			tb.Fatalf("static/%s is not embedded: run make build first (%v)", name, err)
		}
	}
}

// trackerServer is the test's tracker, which a test may restart on the
// same port.
type trackerServer struct {
	tb   testing.TB
	log  *safeLog
	opts tracker.Options
	port int
	stop func()
}

// startTracker serves a real tracker on 127.0.0.1:0 until tb ends.
func startTracker(tb testing.TB, lg *safeLog, opts tracker.Options) *trackerServer {
	tb.Helper()
	ts := &trackerServer{tb: tb, log: lg, opts: opts}
	ts.start()
	tb.Cleanup(func() { ts.stop() })
	return ts
}

// start serves on ts.port (0: any free loopback port).
func (ts *trackerServer) start() {
	tb := ts.tb
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(ts.log.writer("tracker"), nil))
	opts := ts.opts
	opts.Logger = logger
	opts.Hosts = append(opts.Hosts, appHost)
	tr := tracker.New(opts)

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ts.port))
	if err != nil {
		tb.Fatalf("listen on loopback: %v", err)
	}
	ts.port = ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{
		Handler:           tr.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ts.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("tracker server: %v", err)
		}
		if err := tr.Close(); err != nil {
			ts.log.logf("tracker close: %v", err)
		}
		ts.stop = func() {}
	}
}

// restart stops the tracker, dropping every WebSocket and forgetting every
// swarm, waits pause, and starts a fresh one on the same port.
func (ts *trackerServer) restart(pause time.Duration) {
	ts.stop()
	time.Sleep(pause)
	ts.start()
}

// startBrowser starts one headless Chromium with a fresh profile and returns
// its first context; person contexts are children of it.
func startBrowser(tb testing.TB, lg *safeLog, exe string) context.Context {
	tb.Helper()
	profile, err := os.MkdirTemp("", "tabswarm-e2e-profile-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(profile) }) // runs after the browser stops

	stderr := &tailBuffer{max: 16 << 10}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Real host candidates instead of mDNS names, which need multicast;
		// and no omnibox popup pages: each browser context otherwise preloads
		// two WebUI renderers that take seconds of CPU from the tabs.
		chromedp.Flag("disable-features", "Translate,WebRtcHideLocalIpsWithMdns,WebUIOmniboxPopup,WebUIOmniboxAimPopup"),
		chromedp.Flag("host-resolver-rules", "MAP "+appHost+" 127.0.0.1"),
	)
	if flags := tierupFlags(); flags != "" {
		opts = append(opts, chromedp.Flag("js-flags", flags), chromedp.CombinedOutput(io.MultiWriter(stderr, tierLog)))
	} else {
		opts = append(opts, chromedp.CombinedOutput(stderr))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(func(f string, a ...any) { lg.logf("chromedp: "+f, a...) }),
	)
	tb.Cleanup(func() {
		cancel()
		allocCancel()
		if tb.Failed() {
			if s := strings.TrimSpace(stderr.String()); s != "" {
				lg.logf("chromium output (tail):\n%s", s)
			}
		}
	})

	// The first Run starts the browser and binds it to the context it gets.
	if err := within(browserStartTimeout, func() error { return chromedp.Do(ctx) }); err != nil {
		tb.Fatalf("start Chromium %s: %v\n%s", exe, err, stderr.String())
	}
	return ctx
}
