package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// Helpers for the page's own features: files made in the page, drops and
// pastes, a held-back peer, QR codes, layout and console checks.

// awaitJS evaluates js, awaiting the promise it returns.
func awaitJS[T any](ctx context.Context, js string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// stepJS runs js in p's tab within stepTimeout and fails tb on an error.
func stepJS[T any](tb testing.TB, p *person, what, js string) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := awaitJS[T](ctx, js)
	if err != nil {
		tb.Fatalf("%s: %s: %v\n%s", p.name, what, err, p.dump())
	}
	return v
}

// pngBytes returns a w×h PNG of a colour gradient.
func pngBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(255 * x / w), uint8(255 * y / h), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fileJS is a JS expression for a File of data named name.
func fileJS(name, typ string, data []byte) string {
	return fmt.Sprintf(`new File([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], %q, {type: %q})`,
		base64.StdEncoding.EncodeToString(data), name, typ)
}

// dropView is what dropping a file on the page did.
type dropView struct {
	OverlayWhileDragging bool   `json:"overlayWhileDragging"`
	OverCancelled        bool   `json:"overCancelled"`
	DropCancelled        bool   `json:"dropCancelled"`
	OverlayAfter         bool   `json:"overlayAfter"`
	Href                 string `json:"href"`
}

// dropJS drags the File of fileExpr over the page and drops it on the
// footer, far from any drop zone, as a person dragging from a file
// manager would.
func dropJS(fileExpr string) string {
	return `(() => {
	const dt = new DataTransfer();
	dt.items.add(` + fileExpr + `);
	const ev = (type) => new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true});
	document.querySelector('main').dispatchEvent(ev('dragenter'));
	const overlay = document.querySelector('[data-testid=drop-overlay]');
	const overlayWhileDragging = !overlay.hidden && getComputedStyle(overlay).display !== 'none';
	const overCancelled = !document.querySelector('footer').dispatchEvent(ev('dragover'));
	const dropCancelled = !document.querySelector('footer').dispatchEvent(ev('drop'));
	return {overlayWhileDragging, overCancelled, dropCancelled, overlayAfter: !overlay.hidden, href: location.href};
})()`
}

// dropLinkJS drops link on the page as a browser does a dragged link,
// and says whether the page cancelled the drop.
func dropLinkJS(link string) string {
	return `(() => {
	const dt = new DataTransfer();
	dt.setData('text/uri-list', ` + strconv.Quote(link) + `);
	return !document.querySelector('main').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
})()`
}

// pasteJS pastes into the page body: the File of fileExpr, or text.
func pasteJS(fileExpr, text string) string {
	add := `dt.setData('text/plain', ` + strconv.Quote(text) + `);`
	if fileExpr != "" {
		add = `dt.items.add(` + fileExpr + `);`
	}
	return `(() => {
	const dt = new DataTransfer();
	` + add + `
	return !document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
})()`
}

// recordVideoJS records a second of a canvas changing colour as a WebM
// File in window.__e2eVideo and returns its size.
const recordVideoJS = `(async () => {
	const c = document.createElement('canvas');
	c.width = 160; c.height = 120;
	const g = c.getContext('2d');
	const rec = new MediaRecorder(c.captureStream(25), {mimeType: 'video/webm'});
	const parts = [];
	rec.ondataavailable = (e) => parts.push(e.data);
	const stopped = new Promise((r) => { rec.onstop = r; });
	rec.start(100);
	for (let i = 0; i < 20; i++) {
		g.fillStyle = 'hsl(' + (i * 18) + ' 80% 50%)';
		g.fillRect(0, 0, 160, 120);
		await new Promise((r) => setTimeout(r, 50));
	}
	rec.stop();
	await stopped;
	window.__e2eVideo = new File(parts, 'clip.webm', {type: 'video/webm'});
	return window.__e2eVideo.size;
})()`

// holdPeer makes p's tab hold back the wasm peer's download, so the page
// loads but its peer cannot start; the returned func lets it through.
func holdPeer(tb testing.TB, p *person) (release func()) {
	tb.Helper()
	paused := make(chan fetch.RequestID, 4)
	events := chromedp.Events(p.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			paused <- ev.RequestID
		}
	}()
	if _, err := chromedp.Call(p.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/dist/tabswarm.wasm*"}}}); err != nil {
		tb.Fatalf("%s: Fetch.enable: %v", p.name, err)
	}
	return func() {
		tb.Helper()
		select {
		case id := <-paused:
			if _, err := chromedp.Call(p.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
				tb.Fatalf("%s: let the peer load: %v", p.name, err)
			}
			chromedp.Call(p.ctx, fetch.Disable, cdp.Empty{})
		case <-time.After(stepTimeout):
			tb.Fatalf("%s: the page never asked for the wasm peer", p.name)
		}
	}
}

// decodeQR screenshots the element sel in p's tab and returns what
// zbarimg reads in it.
func decodeQR(tb testing.TB, p *person, sel string) string {
	tb.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("zbarimg not found under CI (.ci/run installs zbar-tools)")
		}
		tb.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		tb.Fatalf("%s: screenshot %s: %v", p.name, sel, err)
	}
	path := filepath.Join(tb.TempDir(), "qr.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(zbar, "--quiet", "--raw", path).Output()
	if err != nil {
		tb.Fatalf("%s: zbarimg read no QR code in %s: %v", p.name, sel, err)
	}
	return strings.TrimSpace(string(out))
}

// overflowJS lists the elements that reach past the viewport's right edge,
// and whether the page scrolls sideways.
const overflowJS = `(() => {
	const w = document.documentElement.clientWidth;
	const wide = [];
	for (const e of document.querySelectorAll('body *')) {
		const r = e.getBoundingClientRect();
		if (r.width && r.right > w + 0.5) wide.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(r.right) + 'px');
	}
	if (document.documentElement.scrollWidth > w) wide.push('document scrolls to ' + document.documentElement.scrollWidth + 'px');
	return {width: w, wide};
})()`

type overflowView struct {
	Width int      `json:"width"`
	Wide  []string `json:"wide"`
}

// consoleErrors returns the error and exception lines p's page logged.
func (p *person) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var bad []string
	for _, l := range p.console {
		if strings.HasPrefix(l, "error") || strings.HasPrefix(l, "exception") {
			bad = append(bad, l)
		}
	}
	return bad
}
