package e2e

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tabswarm/internal/figure"
	"tabswarm/static"
)

//go:embed ceiling
var ceilingFS embed.FS

// Issue 6's raw ceiling: 64 KiB messages, queue while bufferedAmount is
// under 128 KiB, resume at 32 KiB.
const (
	ceilingMsg  = 64 << 10
	ceilingHigh = 128 << 10
	ceilingLow  = 32 << 10
)

// serveCeiling serves the ceiling page (and the floor's scripts, with the
// app's own hash-wasm under /hash-wasm/) on 127.0.0.1:0 until tb ends and
// returns its URL under appHost, so the page runs outside a secure
// context, as the app does on a LAN.
func serveCeiling(tb testing.TB) string {
	tb.Helper()
	sub, err := fs.Sub(ceilingFS, "ceiling")
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen on loopback: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServerFS(sub))
	mux.Handle("/hash-wasm/", http.FileServerFS(static.FS))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("http://%s:%d/", appHost, ln.Addr().(*net.TCPAddr).Port)
}

// benchCeiling moves size bytes between two fresh browser contexts over a
// plain RTCDataChannel, runs times, and prints MB/s: from the first message
// received to the last (the connection is already open), and the
// transfer's CPU and memory figures.
func benchCeiling(b *testing.B, name string, size int64) {
	e := newEnv(b)
	page := serveCeiling(b)
	f := figure.New(name, "MB/s")
	tf := newTransferFigures(name, size)
	for i := range figure.Runs() {
		sender := e.newBlankPerson(b, fmt.Sprintf("ceiling-tx%d", i))
		receiver := e.newBlankPerson(b, fmt.Sprintf("ceiling-rx%d", i))
		if err := connectPages(sender.ctx, receiver.ctx, page); err != nil {
			b.Fatalf("ceiling run %d: %v\n%s%s", i, err, sender.dump(), receiver.dump())
		}
		stop := tf.watch(b, sender, receiver)
		ms, err := ceilingRun(sender.ctx, receiver.ctx, size)
		if err != nil {
			b.Fatalf("ceiling run %d: %v\n%s%s", i, err, sender.dump(), receiver.dump())
		}
		stop()
		f.Add(float64(size) / 1e6 / (ms / 1e3))
		sender.close()
		receiver.close()
	}
	f.Print()
	tf.print()
}

// pageCall evaluates js, awaiting the promise it returns.
func pageCall[T any](ctx context.Context, js string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// connectPages loads the ceiling page in the tabs tx and rx and opens a
// data channel from tx to rx.
func connectPages(tx, rx context.Context, page string) error {
	for _, ctx := range []context.Context{tx, rx} {
		c, cancel := context.WithTimeout(ctx, pageReadyTimeout)
		err := chromedp.Do(c, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#ready")))
		cancel()
		if err != nil {
			return fmt.Errorf("load %s: %w", page, err)
		}
	}
	ctx, cancel := context.WithTimeout(tx, stepTimeout)
	defer cancel()
	rctx, rcancel := context.WithTimeout(rx, stepTimeout)
	defer rcancel()
	offer, err := pageCall[string](ctx, `ceiling.offer()`)
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	answer, err := pageCall[string](rctx, `ceiling.answer(`+strconv.Quote(offer)+`)`)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if _, err := pageCall[bool](ctx, `ceiling.accept(`+strconv.Quote(answer)+`)`); err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	return nil
}

// ceilingRun sends size bytes from tx to rx, connected by connectPages,
// and returns the receiver's milliseconds.
func ceilingRun(tx, rx context.Context, size int64) (float64, error) {
	ctx, cancel := context.WithTimeout(tx, sizeTimeout(size, 2e6))
	defer cancel()
	rctx, rcancel := context.WithTimeout(rx, sizeTimeout(size, 2e6))
	defer rcancel()
	got := make(chan error, 1)
	var ms float64
	go func() {
		var err error
		ms, err = pageCall[float64](rctx, fmt.Sprintf(`ceiling.receive(%d)`, size))
		got <- err
	}()
	_, serr := pageCall[bool](ctx, fmt.Sprintf(`ceiling.send(%d, %d, %d, %d)`, size, ceilingMsg, ceilingHigh, ceilingLow))
	rerr := <-got
	if err := errors.Join(serr, rerr); err != nil {
		return 0, err
	}
	chromedp.Run(ctx, chromedp.Evaluate[bool](`ceiling.close()`))
	chromedp.Run(rctx, chromedp.Evaluate[bool](`ceiling.close()`))
	return ms, nil
}
