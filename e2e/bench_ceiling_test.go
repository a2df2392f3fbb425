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

// serveCeiling serves the ceiling page on 127.0.0.1:0 until tb ends and
// returns its URL.
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
	srv := &http.Server{Handler: http.FileServerFS(sub), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// benchCeiling moves size bytes between two fresh browser contexts over a
// plain RTCDataChannel, runs times, and prints MB/s: from the first message
// received to the last (the connection is already open).
func benchCeiling(b *testing.B, name string, size int64) {
	e := newEnv(b)
	page := serveCeiling(b)
	f := figure.New(name, "MB/s")
	for i := range figure.Runs() {
		sender := e.newBlankPerson(b, fmt.Sprintf("ceiling-tx%d", i))
		receiver := e.newBlankPerson(b, fmt.Sprintf("ceiling-rx%d", i))
		ms, err := ceilingRun(sender.ctx, receiver.ctx, page, size)
		if err != nil {
			b.Fatalf("ceiling run %d: %v\n%s%s", i, err, sender.dump(), receiver.dump())
		}
		f.Add(float64(size) / 1e6 / (ms / 1e3))
		sender.close()
		receiver.close()
	}
	f.Print()
}

// ceilingRun connects the two pages and returns the receiver's milliseconds
// for size bytes.
func ceilingRun(tx, rx context.Context, page string, size int64) (float64, error) {
	for _, ctx := range []context.Context{tx, rx} {
		c, cancel := context.WithTimeout(ctx, pageReadyTimeout)
		err := chromedp.Do(c, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#ready")))
		cancel()
		if err != nil {
			return 0, fmt.Errorf("load %s: %w", page, err)
		}
	}
	ctx, cancel := context.WithTimeout(tx, sizeTimeout(size, 2e6))
	defer cancel()
	call := func(ctx context.Context, js string) (string, error) {
		return chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	}
	offer, err := call(ctx, `ceiling.offer()`)
	if err != nil {
		return 0, fmt.Errorf("offer: %w", err)
	}
	rctx, rcancel := context.WithTimeout(rx, sizeTimeout(size, 2e6))
	defer rcancel()
	answer, err := call(rctx, `ceiling.answer(`+strconv.Quote(offer)+`)`)
	if err != nil {
		return 0, fmt.Errorf("answer: %w", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`ceiling.accept(`+strconv.Quote(answer)+`)`, chromedp.EvalAwaitPromise)); err != nil {
		return 0, fmt.Errorf("accept: %w", err)
	}
	got := make(chan error, 1)
	var ms float64
	go func() {
		var err error
		ms, err = chromedp.Run(rctx, chromedp.Evaluate[float64](fmt.Sprintf(`ceiling.receive(%d)`, size), chromedp.EvalAwaitPromise))
		got <- err
	}()
	_, serr := chromedp.Run(ctx, chromedp.Evaluate[bool](
		fmt.Sprintf(`ceiling.send(%d, %d, %d, %d)`, size, ceilingMsg, ceilingHigh, ceilingLow), chromedp.EvalAwaitPromise))
	rerr := <-got
	if err := errors.Join(serr, rerr); err != nil {
		return 0, err
	}
	chromedp.Run(ctx, chromedp.Evaluate[bool](`ceiling.close()`))
	chromedp.Run(rctx, chromedp.Evaluate[bool](`ceiling.close()`))
	return ms, nil
}
