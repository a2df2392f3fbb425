package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"tabswarm/internal/figure"
	"tabswarm/static"
)

// readyAtScript runs before the page's scripts and notes, in
// window.__benchReadyAt, the performance.now() (milliseconds since the
// navigation started) at which the page marks itself ready.
const readyAtScript = `new MutationObserver((_, obs) => {
	if (document.documentElement && document.documentElement.dataset.ready !== undefined) {
		window.__benchReadyAt = performance.now();
		obs.disconnect();
	}
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-ready"]});`

// benchLoad prints the embedded wasm's size raw, gzipped (level 9) and
// brotli'd (the brotli CLI, quality 11), then loads the app in a fresh
// browser context runs times: milliseconds from navigation start to
// <html data-ready>, with a cold cache each time.
func benchLoad(b *testing.B) {
	raw, err := fs.ReadFile(static.FS, "dist/tabswarm.wasm")
	if err != nil {
		b.Fatalf("run make build first: %v", err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	br := "n/a (no brotli CLI)"
	cmd := exec.Command("brotli", "-c", "-q", "11")
	cmd.Stdin = bytes.NewReader(raw)
	if out, err := cmd.Output(); err == nil {
		br = fmt.Sprintf("%.2f MB", float64(len(out))/1e6)
	} else {
		b.Logf("brotli: %v", err)
	}
	fmt.Printf("wasm size: raw %.2f MB, gzip -9 %.2f MB, brotli -q 11 %s (target brotli <= 2 MB)\n",
		float64(len(raw))/1e6, float64(gz.Len())/1e6, br)

	e := newEnv(b)
	fig := figure.New("load to ready", "ms")
	for i := range figure.Runs() {
		p := e.newBlankPerson(b, fmt.Sprintf("loader%d", i))
		if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: readyAtScript}); err != nil {
			b.Fatal(err)
		}
		p.open(b, "/")
		var ms float64
		err := poll(p.ctx, 10*time.Second, 20*time.Millisecond, func(ctx2 context.Context) (bool, error) {
			v, err := evalJS[float64](ctx2, `window.__benchReadyAt || 0`)
			ms = v
			return v > 0, err
		})
		if err != nil {
			b.Fatalf("%s: no ready time: %v", p.name, err)
		}
		fig.Add(ms)
		p.close()
	}
	fig.Print()
}
