package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// share picks f in the share input, waits for its row to be seeding, and
// fails unless the row shows the digest the native peer computes for f.
func (p *person) share(tb testing.TB, f testFile) {
	tb.Helper()
	abs, err := filepath.Abs(f.path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(selShareInput), []string{abs})); err != nil {
		tb.Fatalf("%s: set %s on %s: %v", p.name, abs, selShareInput, err)
	}
	name := filepath.Base(abs)
	r := p.waitRow(tb, fmt.Sprintf("shared file %q (%d bytes)", name, f.size),
		byName(name), stateSeeding, sizeTimeout(f.size, 2e6))
	if r.Digest != f.digest {
		tb.Fatalf("%s: the page's digest of %s is %q, the native peer computes %s", p.name, name, r.Digest, f.digest)
	}
}

// get types input (a digest or a share link) into the get input, presses Get,
// and waits until the row for digest is seeding. It returns the time from the
// click until the row was seen seeding.
func (p *person) get(tb testing.TB, input, digest string, size int64) time.Duration {
	tb.Helper()
	start := p.pressGet(tb, input)
	p.waitRow(tb, "download of "+digest, byDigest(digest), stateSeeding, sizeTimeout(size, 1e6)+60*time.Second)
	return time.Since(start)
}

// pressGet types input into the get input and clicks Get; it returns when
// the click was sent.
func (p *person) pressGet(tb testing.TB, input string) time.Time {
	tb.Helper()
	p.typeGet(tb, input)
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selGetButton))); err != nil {
		tb.Fatalf("%s: click %s: %v", p.name, selGetButton, err)
	}
	return time.Now()
}

// save clicks Save in the row for digest, waits for Chromium to finish the
// download into a fresh folder, and returns the saved file's path.
func (p *person) save(tb testing.TB, digest string, size int64) string {
	tb.Helper()
	p.saves++
	dir := filepath.Join(p.dlRoot, fmt.Sprintf("save%d", p.saves))
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, sizeTimeout(size, 5e6))
	defer cancel()

	// Downloads of this browser context only, into dir, with events.
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllow,
		BrowserContextID: p.bcID,
		DownloadPath:     dir,
		EventsEnabled:    new(true),
	}); err != nil {
		tb.Fatalf("%s: Browser.setDownloadBehavior: %v", p.name, err)
	}
	begins := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)

	for len(p.dialogs) > 0 {
		<-p.dialogs
	}
	btn := fmt.Sprintf(`%s[data-digest="%s"] %s`, selFile, digest, selSave)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(btn))); err != nil {
		tb.Fatalf("%s: click %s: %v\n%s", p.name, btn, err, p.dump())
	}

	// Wait for this tab's download to begin, or for the page to say why not.
	type began struct {
		guid, name string
		err        error
	}
	beganc := make(chan began, 1)
	go func() {
		var ignored []string
		for ev, err := range begins {
			if err != nil {
				beganc <- began{err: fmt.Errorf("%w (downloads of other frames: %q)", err, ignored)}
				return
			}
			if ev.FrameID != p.frame {
				ignored = append(ignored, ev.SuggestedFilename+" from frame "+string(ev.FrameID))
				continue
			}
			beganc <- began{guid: ev.GUID, name: ev.SuggestedFilename}
			return
		}
	}()
	var guid, suggested string
	select {
	case b := <-beganc:
		if b.err != nil {
			tb.Fatalf("%s: no download began after clicking Save for %s: %v\n%s", p.name, digest, b.err, p.dump())
		}
		guid, suggested = b.guid, b.name
	case msg := <-p.dialogs:
		tb.Fatalf("%s: clicking Save for %s opened a dialog instead of a download: %s\n%s", p.name, digest, msg, p.dump())
	}
	var final browser.EventDownloadProgress
	for ev, err := range progress {
		if err != nil {
			tb.Fatalf("%s: download of %q (%s) did not complete: %v", p.name, suggested, digest, err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			tb.Fatalf("%s: download of %q (%s) was canceled after %v bytes", p.name, suggested, digest, ev.ReceivedBytes)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			final = ev
			break
		}
	}
	path := final.FilePath
	if path == "" {
		path = filepath.Join(dir, suggested)
	}
	// The file is renamed from its temporary name as the download completes.
	err := poll(ctx, 10*time.Second, 50*time.Millisecond, func(context.Context) (bool, error) {
		_, err := os.Stat(path)
		return err == nil, nil
	})
	if err != nil {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		tb.Fatalf("%s: download completed but %s is missing (folder holds %q)", p.name, path, names)
	}
	return path
}
