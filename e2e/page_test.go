package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"tabswarm/swarm"
)

// TestPageSharing covers how a person shares and gets files on the page:
// a file picked before the peer is ready waits and is shared once it is; a
// file dropped anywhere on the window is shared (with an overlay while
// dragging, and no navigation); a pasted file is shared; a pasted or
// dropped share link downloads. Then, on Bob's side: readable names instead of peer IDs,
// previews of an image and a video once complete, the finished download
// announced, and a row's QR code that decodes to its share link. Last,
// Bob's page at 360 px wide has nothing wider than the screen; the
// dashboard shows names, swarm health and its charts, and fits 360 px too;
// and neither page logged a console error.
func TestPageSharing(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	early := makeFile(t, dir, "early.bin", 300<<10)

	// Alice's page loads while her peer is held back; she picks a file.
	alice := e.newBlankPerson(t, "alice")
	release := holdPeer(t, alice)
	ctx, cancel := context.WithTimeout(alice.ctx, stepTimeout)
	err := chromedp.Do(ctx,
		chromedp.Navigate(alice.url("/")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=pick]`)),
		chromedp.SetUploadFiles(chromedp.CSS(selShareInput), []string{early.path}),
	)
	cancel()
	if err != nil {
		t.Fatalf("alice: load and pick before the peer is ready: %v", err)
	}
	waiting := stepJS[string](t, alice, "status", `document.querySelector('[data-testid=status]').dataset.state + ' ' + document.querySelector('[data-testid=status]').textContent`)
	if !strings.HasPrefix(waiting, "loading") || !strings.Contains(waiting, "waiting") {
		t.Errorf("alice's status while her peer loads: %q, want it loading and saying a share waits", waiting)
	}
	release()
	alice.waitReady(t)
	if r := alice.waitRow(t, "the file picked before the peer was ready", byName(early.name), stateSeeding, stepTimeout); r.Digest != early.digest {
		t.Fatalf("alice: early share has digest %s, want %s", r.Digest, early.digest)
	}
	stepJS[bool](t, alice, "set a name", `(() => {
		const i = document.querySelector('[data-testid=name-input]');
		i.value = '  Alice   Tester ';
		i.dispatchEvent(new Event('change'));
		return true;
	})()`)

	// A drop anywhere on the window shares, and never navigates.
	picture := pngBytes(t, 64, 48)
	d := stepJS[dropView](t, alice, "drop an image", dropJS(fileJS("picture.png", "image/png", picture)))
	if !d.OverlayWhileDragging || !d.OverCancelled || !d.DropCancelled || d.OverlayAfter || !strings.HasPrefix(d.Href, e.base) {
		t.Errorf("alice: drop on the footer: %+v; want the overlay while dragging only, dragover and drop cancelled, the page kept", d)
	}
	img := alice.waitRow(t, "the dropped image", byName("picture.png"), stateSeeding, stepTimeout)

	// A pasted file is shared.
	if size := stepJS[int](t, alice, "record a video", recordVideoJS); size < 100 {
		t.Fatalf("alice: recorded video of %d bytes", size)
	}
	if !stepJS[bool](t, alice, "paste a video", pasteJS("window.__e2eVideo", "")) {
		t.Error("alice: pasting a file was not cancelled by the page")
	}
	video := alice.waitRow(t, "the pasted video", byName("clip.webm"), stateSeeding, stepTimeout)

	// The row's QR code decodes to its share link.
	qrRow := fmt.Sprintf(`%s[data-digest="%s"]`, selFile, img.Digest)
	link := stepJS[string](t, alice, "open the image's QR code", `(async () => {
		const row = document.querySelector('`+qrRow+`');
		row.querySelector('[data-testid=show-qr]').click();
		const img = row.querySelector('[data-testid=row-qr]');
		await img.decode();
		return row.querySelector('.row-qr a').href;
	})()`)
	if want := e.base + "/#" + img.Digest; link != want {
		t.Errorf("alice: the row's share link is %q, want %q", link, want)
	}
	if got := decodeQR(t, alice, qrRow+` [data-testid=row-qr]`); got != link {
		t.Errorf("alice: the row's QR code reads %q, want its share link %q", got, link)
	}

	// So does the page's own address under "Other devices".
	if got := decodeQR(t, alice, `[data-testid=join-qr]`); got != e.base {
		t.Errorf("alice: the join QR code reads %q, want %q", got, e.base)
	}

	// Bob pastes the image's share link, and drops the video's.
	bob := e.newPerson(t, "bob", "/")
	if !stepJS[bool](t, bob, "paste a share link", pasteJS("", link)) {
		t.Error("bob: pasting a share link was not cancelled by the page")
	}
	bob.waitRow(t, "the image from a pasted link", byDigest(img.Digest), stateSeeding, stepTimeout)
	if !stepJS[bool](t, bob, "drop a link", dropLinkJS(strings.Replace(link, img.Digest, video.Digest, 1))) {
		t.Error("bob: dropping a link was not cancelled by the page")
	}
	bob.waitRow(t, "the video from a dropped link", byDigest(video.Digest), stateSeeding, stepTimeout)

	// Previews: the image decoded, the video's first frame known.
	waitJS(t, bob, "a preview of the image", fmt.Sprintf(`(() => {
		const i = document.querySelector('%s[data-digest="%s"] [data-testid=preview] img');
		return !!i && i.complete && i.naturalWidth === 64 && i.naturalHeight === 48;
	})()`, selFile, img.Digest))
	waitJS(t, bob, "a playable preview of the video", fmt.Sprintf(`(() => {
		const v = document.querySelector('%s[data-digest="%s"] [data-testid=preview] video');
		return !!v && v.controls && v.readyState >= 1 && v.videoWidth === 160;
	})()`, selFile, video.Digest))
	if got := stepJS[string](t, bob, "announcement", `document.querySelector('[data-testid=announce]').textContent`); !strings.HasPrefix(got, "Downloaded ") {
		t.Errorf("bob: the live region says %q, want a finished download", got)
	}
	if got := stepJS[string](t, bob, "title", `document.title`); got != "tabswarm" {
		t.Errorf("bob: title %q after every download finished", got)
	}
	// Where the image came from, by Alice's name (learnt from the tracker).
	waitJS(t, bob, "Alice's name in the image's row", fmt.Sprintf(`(() => {
		const w = document.querySelector('%s[data-digest="%s"] [data-testid=sources]');
		return !!w && w.textContent.includes('From Alice Tester 100%%');
	})()`, selFile, img.Digest))
	// Its chunk map is painted over the row's width in Alice's colour, not
	// left blank or in the grey of chunks held before.
	painted := stepJS[float64](t, bob, "the image's chunk map", fmt.Sprintf(`(() => {
		const c = document.querySelector('%s[data-digest="%s"] canvas.map');
		const d = c.getContext('2d').getImageData(0, c.height >> 1, c.width, 1).data;
		let n = 0;
		for (let x = 0; x < c.width; x++) {
			const [r, g, b, a] = d.slice(4 * x, 4 * x + 4);
			if (a > 0 && !(r === 0x8a && g === 0x9b && b === 0xb0)) n++;
		}
		return n / c.width;
	})()`, selFile, img.Digest))
	if painted < 0.95 {
		t.Errorf("bob: the image's chunk map is painted in a peer's colour over %.0f%% of its width, want all of it", 100*painted)
	}
	// The map is redrawn as chunks come (it skips a redraw only when
	// nothing changed): a quarter of a four-chunk file, then all of it.
	steps := stepJS[[]int](t, bob, "redraw a chunk map", `(() => {
		const c = document.createElement('canvas');
		c.width = 600, c.height = 14;
		const painted = () => {
			const d = c.getContext('2d').getImageData(0, 7, c.width, 1).data;
			let n = 0;
			for (let x = 0; x < c.width; x++) if (d[4 * x + 3] > 0) n++;
			return n;
		};
		const out = [];
		for (const f of [{have: 1, map: [2, 0, 0, 0]}, {have: 4, map: [2, 2, 2, 2]}, {have: 4, map: [2, 2, 2, 2]}]) {
			drawMap(c, {...f, sources: ['a1b2c3d4']});
			out.push(painted());
		}
		return out;
	})()`)
	if len(steps) != 3 || steps[0] < 140 || steps[0] > 150 || steps[1] < 590 || steps[2] != steps[1] {
		t.Errorf("bob: a chunk map painted %v columns of 600 at one, four and again four chunks of four; want about 150, 600, 600", steps)
	}

	// Bob's page on a 360 px phone, with a QR code open.
	ctx, cancel = context.WithTimeout(bob.ctx, stepTimeout)
	_, err = chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 360, Height: 740, DeviceScaleFactor: 1, Mobile: true})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	stepJS[bool](t, bob, "open a QR code", `(document.querySelector('[data-testid=show-qr]').click(), true)`)
	time.Sleep(300 * time.Millisecond) // a layout pass
	if o := stepJS[overflowView](t, bob, "layout at 360 px", overflowJS); o.Width != 360 || len(o.Wide) > 0 {
		t.Errorf("bob at 360 px (viewport %d px): elements wider than the screen: %q", o.Width, o.Wide)
	}

	// The dashboard, in Bob's tab: Alice by name, the health of a swarm,
	// and charts drawn from the stream.
	ctx, cancel = context.WithTimeout(bob.ctx, stepTimeout)
	err = chromedp.Do(ctx, chromedp.Navigate(e.base+"/stats"))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, bob, "the dashboard with names, health and charts", `(() => {
		const names = Array.from(document.querySelectorAll('.peer-name'), (n) => n.textContent);
		const health = document.querySelector('[data-testid=health]');
		const c = document.querySelector('[data-testid=chart-counts]');
		if (!names.includes('Alice Tester') || !health || !/full cop/.test(health.textContent) || !c.width) return false;
		// Pixels of the peers line's own colour: drawn from the history.
		const hex = getComputedStyle(document.documentElement).getPropertyValue('--peers').trim();
		const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
		const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let line = 0;
		for (let i = 0; i < px.length; i += 4) {
			if (px[i + 3] > 200 && rgb.every((v, j) => Math.abs(px[i + j] - v) < 24)) line++;
		}
		return line > 20;
	})()`)

	if o := stepJS[overflowView](t, bob, "the dashboard at 360 px", overflowJS); len(o.Wide) > 0 {
		t.Errorf("bob's dashboard at 360 px: elements wider than the screen: %q", o.Wide)
	}

	for _, p := range []*person{alice, bob} {
		if bad := p.consoleErrors(); len(bad) > 0 {
			t.Errorf("%s's page logged errors: %q", p.name, bad)
		}
	}
}

// waitJS waits until js is true in p's tab.
func waitJS(tb testing.TB, p *person, what, js string) {
	tb.Helper()
	err := poll(p.ctx, stepTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		return evalJS[bool](ctx, js)
	})
	if err != nil {
		tb.Fatalf("%s: no %s within %v: %v\n%s", p.name, what, stepTimeout, err, p.dump())
	}
}

// TestPageKeyboard tabs through the page: every control is reached, each
// shows a visible focus ring, and every control has a label. Then the
// storage line, and Remove all.
func TestPageKeyboard(t *testing.T) {
	e := newEnv(t)
	p := e.newPerson(t, "kim", "/")
	f := makeFile(t, t.TempDir(), "notes.txt", 2000)
	p.share(t, f)
	reached := map[string]bool{}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	for range 30 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		type focus struct {
			Name    string `json:"name"`
			Outline string `json:"outline"`
		}
		got, err := evalJS[focus](ctx, `(() => {
			const a = document.activeElement;
			const s = getComputedStyle(a);
			return {name: a.id || a.dataset.testid || a.className || a.tagName, outline: s.outlineStyle + ' ' + s.outlineWidth};
		})()`)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "BODY" && strings.HasPrefix(got.Outline, "none") {
			t.Errorf("%s has no visible focus (outline %s)", got.Name, got.Outline)
		}
		reached[got.Name] = true
	}
	for _, want := range []string{"name-input", "pick", "pick-folder", "get-input", "get-button", "pick-p2t", "remove-all", "save", "copy", "show-qr", "remove"} {
		if !reached[want] {
			t.Errorf("Tab never reached %s (reached %v)", want, reached)
		}
	}
	unlabelled := stepJS[[]string](t, p, "labels", `Array.from(document.querySelectorAll('input, button, select, textarea, video, audio'))
		.filter((c) => c.offsetParent !== null || c.type === 'file')
		.filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
		.map((c) => c.outerHTML.slice(0, 80))`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %q", unlabelled)
	}

	// Storage is shown, and Remove all (confirmed) empties the list.
	waitJS(t, p, "the storage this tab uses", `/^2\.0 KiB stored here$|used · .* available$/.test(document.querySelector('[data-testid=storage]').textContent)`)
	stepJS[bool](t, p, "Remove all", `(document.querySelector('[data-testid=remove-all]').click(), true)`)
	waitJS(t, p, "an empty list after Remove all", `document.querySelectorAll('`+selFile+`').length === 0 && !document.querySelector('#empty').hidden`)
	if bad := p.consoleErrors(); len(bad) > 0 {
		t.Errorf("the page logged errors: %q", bad)
	}
}

// TestPageTitleProgress checks the tab's title while a download cannot
// finish: a native peer holds only the first half of a file, so the
// download stalls at 50% and the title says so, as the row does.
func TestPageTitleProgress(t *testing.T) {
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "half.bin", 4<<20)
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	m := swarm.NewManifest(f.name, "application/octet-stream", f.size, swarm.HashRun(nil, data, swarm.ChunkSize(f.size)))
	lib := new(swarm.MemLibrary)
	ctx := context.Background()
	store, err := lib.Open(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	half := m.NumChunks() / 2
	for i := range half {
		off := int64(i) * m.ChunkSize
		if err := store.WriteChunk(ctx, i, data[off:off+int64(m.ChunkLen(i))]); err != nil {
			t.Fatal(err)
		}
	}
	e.startNative(t, "half-holder", lib)
	e.waitListed(t, f.digest)

	p := e.newPerson(t, "tess", "/")
	p.pressGet(t, f.digest)
	p.waitRow(t, "the half-held download", byDigest(f.digest), stateStalled, stepTimeout)
	if got := stepJS[string](t, p, "title", `document.title`); got != "(50%) tabswarm" {
		t.Errorf("title of a download stalled at %d of %d chunks: %q, want (50%%) tabswarm", half, m.NumChunks(), got)
	}
	if bad := p.consoleErrors(); len(bad) > 0 {
		t.Errorf("the page logged errors: %q", bad)
	}
}
