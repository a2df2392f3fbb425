package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestScreenshots writes the README's pictures of the page (desktop and
// phone, light and dark) and of the dashboard into $TABSWARM_SCREENSHOTS
// (`make screenshots` sets it to docs/). Without it the test is skipped.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("TABSWARM_SCREENSHOTS")
	if dir == "" {
		t.Skip("set TABSWARM_SCREENSHOTS to a folder to write the screenshots (make screenshots)")
	}
	e := newEnv(t)
	dash := e.newBlankPerson(t, "dashboard")
	viewport(t, dash, 1100, 820, 1, false)
	ctx, cancel := context.WithTimeout(dash.ctx, stepTimeout)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/stats")); err != nil {
		t.Fatal(err)
	}
	cancel()

	files := t.TempDir()
	alice := e.newPerson(t, "alice", "/")
	stepJS[bool](t, alice, "name", `(() => { const i = document.querySelector('[data-testid=name-input]'); i.value = 'Alice'; i.dispatchEvent(new Event('change')); return true; })()`)
	big := makeFile(t, files, "holiday-photos.zip", 24<<20)
	alice.share(t, big)
	stepJS[dropView](t, alice, "drop an image", dropJS(fileJS("harbour.png", "image/png", pngBytes(t, 320, 180))))
	notes := "Agenda\n1. Welcome\n2. Demo of tabswarm: open the page, drop a file, scan the code.\n3. Questions\n"
	stepJS[bool](t, alice, "paste notes", pasteJS(fileJS("meeting-notes.txt", "text/plain", []byte(notes)), ""))
	pic := alice.waitRow(t, "image", byName("harbour.png"), stateSeeding, stepTimeout)
	txt := alice.waitRow(t, "notes", byName("meeting-notes.txt"), stateSeeding, stepTimeout)

	bob := e.newPerson(t, "bob", "/")
	stepJS[bool](t, bob, "name", `(() => { const i = document.querySelector('[data-testid=name-input]'); i.value = 'Bob'; i.dispatchEvent(new Event('change')); return true; })()`)
	bob.get(t, pic.Digest, pic.Digest, 1<<20)
	bob.get(t, txt.Digest, txt.Digest, 1<<20)
	bob.get(t, big.digest, big.digest, big.size)
	time.Sleep(6 * time.Second) // names and the network list refresh every 5 s
	stepJS[bool](t, bob, "open a QR code", `(document.querySelector('[data-testid=show-qr]').click(), true)`)

	shots := []struct {
		name         string
		w, h         int64
		scale        float64
		mobile, dark bool
	}{
		{"page-desktop-light.png", 1100, 1100, 1, false, false},
		{"page-desktop-dark.png", 1100, 1100, 1, false, true},
		{"page-phone-light.png", 360, 780, 2, true, false},
		{"page-phone-dark.png", 360, 780, 2, true, true},
	}
	for _, s := range shots {
		viewport(t, bob, s.w, s.h, s.scale, s.mobile)
		scheme(t, bob, s.dark)
		// On a phone, the files: the top of the page is in the desktop shots.
		top := "0"
		if s.mobile {
			top = "document.querySelector('.files-head').getBoundingClientRect().top + scrollY - 8"
		}
		stepJS[bool](t, bob, "scroll", `(scrollTo(0, `+top+`), true)`)
		time.Sleep(500 * time.Millisecond)
		capture(t, bob, filepath.Join(dir, s.name))
	}
	time.Sleep(4 * time.Second)
	capture(t, dash, filepath.Join(dir, "dashboard.png"))
}

func viewport(tb testing.TB, p *person, w, h int64, scale float64, mobile bool) {
	tb.Helper()
	if _, err := chromedp.Call(p.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: w, Height: h, DeviceScaleFactor: scale, Mobile: mobile,
	}); err != nil {
		tb.Fatal(err)
	}
}

func scheme(tb testing.TB, p *person, dark bool) {
	tb.Helper()
	v := "light"
	if dark {
		v = "dark"
	}
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
	}); err != nil {
		tb.Fatal(err)
	}
}

func capture(tb testing.TB, p *person, path string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("wrote %s (%d KiB)", path, len(png)>>10)
}
