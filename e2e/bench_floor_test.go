package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"tabswarm/internal/figure"
	"tabswarm/swarm"
)

// benchFloor moves a size-byte file between two fresh browser contexts
// with the floor page (e2e/ceiling/floor.js), runs times, and prints MB/s
// from the first block received until the last chunk is verified and
// stored, the time from the first block to the first chunk stored, and
// the transfer's CPU and memory figures, and the ratio to the figure
// named ceiling.
func benchFloor(b *testing.B, name string, size int64, ceiling string) {
	e := newEnv(b)
	page := serveCeiling(b)
	f := makeFile(b, b.TempDir(), fmt.Sprintf("random-%dMiB.bin", size>>20), size)
	rate := figure.New(name, "MB/s")
	first := figure.New(name+" first chunk stored, from its first block", "ms")
	tf := newTransferFigures(name, size)
	for i := range figure.Runs() {
		r, _ := floorOnce(b, e, page, f, i, tf)
		rate.Add(float64(size) / 1e6 / (r.MS / 1e3))
		first.Add(r.FirstMS)
	}
	rate.Print()
	first.Print()
	tf.print()
	figure.PrintRatio(name+" / ceiling", rate.Median(), ceiling, "")
}

// floorOnce moves f once between two fresh browser contexts with the floor
// page at base, as run i, records the transfer in tf and returns its
// result and CPU-seconds per 64 MiB by process kind.
func floorOnce(b *testing.B, e *env, base string, f testFile, i int, tf *transferFigures) (floorResult, map[string]float64) {
	tx := e.newBlankPerson(b, fmt.Sprintf("floor-tx%d", i))
	rx := e.newBlankPerson(b, fmt.Sprintf("floor-rx%d", i))
	defer tx.close()
	defer rx.close()
	if err := connectPages(tx.ctx, rx.ctx, base); err != nil {
		b.Fatalf("floor run %d: %v\n%s%s", i, err, tx.dump(), rx.dump())
	}
	floorStore(b, tx, f)
	stop := tf.watch(b, tx, rx)
	r, err := floorRun(tx, rx, f)
	if err != nil {
		b.Fatalf("floor run %d: %v\n%s%s", i, err, tx.dump(), rx.dump())
	}
	return r, stop()
}

// floorStore picks f in tx's floor page and stores it whole in IndexedDB,
// as a share does. It fails if the page runs in a secure context, which
// the app on a LAN does not.
func floorStore(tb testing.TB, tx *person, f testFile) {
	tb.Helper()
	if secure, err := evalJS[bool](tx.ctx, `window.isSecureContext`); err != nil || secure {
		tb.Fatalf("%s: the floor page is in a secure context (%v); want the plain-http LAN case", tx.name, err)
	}
	abs, err := filepath.Abs(f.path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tx.ctx, sizeTimeout(f.size, 20e6))
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{abs})); err != nil {
		tb.Fatalf("%s: pick %s: %v", tx.name, abs, err)
	}
	n, err := pageCall[float64](ctx, `floor.store()`)
	if err != nil || int64(n) != f.size {
		tb.Fatalf("%s: store %s: %v bytes stored of %d: %v", tx.name, f.name, n, f.size, err)
	}
}

// floorResult is what floor.receive() resolves with.
type floorResult struct {
	MS      float64 `json:"ms"`      // from the first block to the last chunk stored
	FirstMS float64 `json:"firstMs"` // from the first block to the first chunk stored
}

// floorRun sends f, stored by floorStore, from tx to rx, connected by
// connectPages, and checks that rx stored every chunk.
func floorRun(tx, rx *person, f testFile) (floorResult, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return floorResult{}, err
	}
	cs, sums := chunkHashes(data)
	hexes := make([]string, len(sums))
	for i, h := range sums {
		hexes[i] = h.String()
	}
	list, err := json.Marshal(hexes)
	if err != nil {
		return floorResult{}, err
	}
	ctx, cancel := context.WithTimeout(tx.ctx, sizeTimeout(f.size, 2e6))
	defer cancel()
	rctx, rcancel := context.WithTimeout(rx.ctx, sizeTimeout(f.size, 2e6))
	defer rcancel()
	if _, err := pageCall[bool](rctx, fmt.Sprintf(`floor.expect(%d, %d, %s)`, f.size, cs, list)); err != nil {
		return floorResult{}, fmt.Errorf("expect: %w", err)
	}
	got := make(chan error, 1)
	var r floorResult
	go func() {
		var err error
		r, err = pageCall[floorResult](rctx, `floor.receive()`)
		got <- err
	}()
	_, serr := pageCall[bool](ctx, fmt.Sprintf(`floor.send(%d, %d, %d, %d)`, cs, swarm.BlockSize, ceilingHigh, ceilingLow))
	if serr != nil {
		rcancel() // the receiver waits for blocks that will not come
	}
	if err := errors.Join(serr, <-got); err != nil {
		return r, err
	}
	stored, err := pageCall[[]int](rctx, `floor.stored()`)
	if err != nil {
		return r, err
	}
	if len(stored) != len(sums) {
		return r, fmt.Errorf("%d chunk records stored, want %d", len(stored), len(sums))
	}
	return r, nil
}
