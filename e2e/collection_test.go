package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"tabswarm/swarm"
)

// TestCollection: Alice picks three files at once (one empty), which the
// page shares as one collection; Bob pastes the collection's one digest,
// gets every file, and saves each byte-identical. After a reload Bob's tab
// still shows the collection; removing it keeps only the file he also
// asked for alone. On the way: a folder chosen or dropped, a name with a
// bidirectional override, and .p2t files opened.
func TestCollection(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	files := []testFile{
		makeFile(t, dir, "a.bin", 300<<10),
		makeFile(t, dir, "b.txt", 1000),
		makeFile(t, dir, "empty.bin", 0),
	}
	var entries []swarm.Entry
	var paths []string
	for _, f := range files {
		entries = append(entries, swarm.Entry{Path: f.name, Digest: mustDigest(t, f.digest), Size: f.size})
		abs, _ := filepath.Abs(f.path)
		paths = append(paths, abs)
	}
	c, err := swarm.NewCollection("3 files", entries)
	if err != nil {
		t.Fatal(err)
	}
	digest := c.Digest.String()

	alice := e.newPerson(t, "alice", "/")
	ctx, cancel := context.WithTimeout(alice.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(selShareInput), paths)); err != nil {
		t.Fatalf("alice: pick three files: %v", err)
	}
	alice.waitCollection(t, digest, 3, time.Minute)

	// A folder chosen in the folder picker is one collection named after
	// it, its files keeping their paths under it.
	folder := filepath.Join(t.TempDir(), "trip")
	os.MkdirAll(filepath.Join(folder, "day1"), 0o755)
	inFolder := []testFile{makeFile(t, folder, "notes.txt", 10), makeFile(t, filepath.Join(folder, "day1"), "b.bin", 2000)}
	trip, err := swarm.NewCollection("trip", []swarm.Entry{
		{Path: "notes.txt", Digest: mustDigest(t, inFolder[0].digest), Size: 10},
		{Path: "day1/b.bin", Digest: mustDigest(t, inFolder[1].digest), Size: 2000},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=folder-input]`), []string{folder})); err != nil {
		t.Fatalf("alice: choose a folder: %v", err)
	}
	alice.waitCollection(t, trip.Digest.String(), 2, time.Minute)

	// A folder dropped on the window (as a file manager drops it) is walked
	// to its files: one collection named after it, paths kept.
	album := filepath.Join(t.TempDir(), "album")
	os.MkdirAll(filepath.Join(album, "raw"), 0o755)
	inAlbum := []testFile{makeFile(t, album, "cover.bin", 30), makeFile(t, filepath.Join(album, "raw"), "x.bin", 3000)}
	dropped, err := swarm.NewCollection("album", []swarm.Entry{
		{Path: "cover.bin", Digest: mustDigest(t, inAlbum[0].digest), Size: 30},
		{Path: "raw/x.bin", Digest: mustDigest(t, inAlbum[1].digest), Size: 3000},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice.dropPaths(t, album)
	alice.waitCollection(t, dropped.Digest.String(), 2, time.Minute)
	// An empty folder dropped shares nothing, and the page says so.
	alice.dropPaths(t, t.TempDir())
	waitJS(t, alice, "the note that the folder is empty", `document.querySelector('[data-testid=status]').textContent.includes('no files')`)

	// A name with a bidirectional override shows without it: the row
	// reads "evilgpj.exe", never "evilexe.jpg".
	disguised := makeFile(t, t.TempDir(), "evil\u202egpj.exe", 100)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(selShareInput), []string{disguised.path})); err != nil {
		t.Fatalf("alice: pick %q: %v", disguised.name, err)
	}
	if r := alice.waitRow(t, "the file with a bidi override in its name", byName("evilgpj.exe"), stateSeeding, stepTimeout); strings.ContainsRune(r.Text, '\u202e') {
		t.Errorf("the row shows the override: %q", r.Text)
	}

	bob := e.newPerson(t, "bob", "/")
	bob.pressGet(t, digest)
	bob.waitCollection(t, digest, 3, 2*time.Minute)
	for _, f := range files {
		checkSaved(t, "bob", f, bob.save(t, f.digest, f.size))
	}

	// The folder Alice chose, opened as its .p2t through the Download
	// card's "Open a .p2t file…" button, downloads too; a .p2t cut short
	// gets an error row that says the description is invalid.
	raw, err := json.Marshal(trip)
	if err != nil {
		t.Fatal(err)
	}
	p2tDir := t.TempDir()
	good, cut := filepath.Join(p2tDir, "trip.p2t"), filepath.Join(p2tDir, "cut.p2t")
	os.WriteFile(good, raw, 0o644)
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)
	bob.openP2T(t, good)
	bob.waitCollection(t, trip.Digest.String(), 2, time.Minute)
	bob.openP2T(t, cut)
	if r := bob.waitRow(t, "the .p2t cut short, named after its file", byName("cut.p2t"), stateError, stepTimeout); !strings.Contains(r.Text, "invalid") {
		t.Errorf("the row of a .p2t cut short says %q, want it to say the description is invalid", r.Text)
	}
	// A large file picked by mistake is refused before it is read.
	big := makeFile(t, p2tDir, "video.mp4", 9<<20)
	bob.openP2T(t, big.path)
	waitJS(t, bob, "the note that video.mp4 is not a .p2t", `document.querySelector('[data-testid=status]').textContent.includes('video.mp4 is not a .p2t file')`)
	// A mistake the person can mend leaves the page ready, not failed.
	if st := stepJS[string](t, bob, "status state", `document.querySelector('[data-testid=status]').dataset.state`); st != "ready" {
		t.Errorf("after a wrong .p2t the page's state is %q, want ready", st)
	}

	// Bob also asks for b.txt alone: after a reload, removing the
	// collection removes its other files and keeps that one.
	bob.pressGet(t, files[1].digest)
	keptAlone := fmt.Sprintf(`localStorage.getItem("tabswarm.alone.%s") !== null`, files[1].digest)
	if err := poll(bob.ctx, stepTimeout, 50*time.Millisecond, func(ctx context.Context) (bool, error) { return evalJS[bool](ctx, keptAlone) }); err != nil {
		t.Fatalf("bob: b.txt never held alone: %v", err)
	}
	// A kept collection that can never load (cut short here) is dropped
	// at the reload, not kept to fail at every one.
	broken := `"tabswarm.collection.` + strings.Repeat("ab", 32) + `"`
	stepJS[bool](t, bob, "keep a broken collection", `localStorage.setItem(`+broken+`, '{"version":2,"na'), true`)
	bob.reload(t)
	bob.waitCollection(t, digest, 3, time.Minute)
	waitJS(t, bob, "drop of the kept collection that cannot load", `localStorage.getItem(`+broken+`) === null`)
	bctx, bcancel := context.WithTimeout(bob.ctx, stepTimeout)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=collection][data-digest="%s"] .remove`, digest)))); err != nil {
		t.Fatalf("bob: remove the collection: %v", err)
	}
	var s tabStats
	err = poll(bob.ctx, stepTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var err error
		s, err = bob.stats(ctx)
		_, a := s.file(files[0].digest)
		_, empty := s.file(files[2].digest)
		return !a && !empty, err
	})
	if err != nil {
		t.Fatalf("bob: removing the collection kept its other files: %+v: %v", s.Files, err)
	}
	if _, ok := s.file(files[1].digest); !ok {
		t.Errorf("bob: removing the collection removed b.txt, which he also asked for alone")
	}
}

// dropPaths drops files or folders on p's window through Chromium's drag
// events, as a file manager does.
func (p *person) dropPaths(tb testing.TB, paths ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: paths, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: 50, Y: 50, Data: data}); err != nil {
			tb.Fatalf("%s: %s %q: %v", p.name, typ, paths, err)
		}
	}
}

// openP2T opens the .p2t file at path as a person does: p clicks "Open a
// .p2t file…" and picks the file in the file chooser that opens.
func (p *person) openP2T(tb testing.TB, path string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	intercept := func(ctx context.Context, on bool) {
		if _, err := chromedp.Call(ctx, page.SetInterceptFileChooserDialog, page.SetInterceptFileChooserDialogParams{Enabled: on}); err != nil {
			tb.Fatalf("%s: intercept the file chooser (%v): %v", p.name, on, err)
		}
	}
	intercept(ctx, true)
	defer intercept(p.ctx, false)
	choosers := chromedp.Events(ctx, page.FileChooserOpened)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid=pick-p2t]`))); err != nil {
		tb.Fatalf("%s: click Open a .p2t file: %v", p.name, err)
	}
	for ev, err := range choosers {
		if err != nil {
			break
		}
		if _, err := chromedp.Call(ctx, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: []string{path}, BackendNodeID: ev.BackendNodeID}); err != nil {
			tb.Fatalf("%s: pick %s in the file chooser: %v", p.name, path, err)
		}
		return
	}
	tb.Fatalf("%s: no file chooser opened on clicking Open a .p2t file\n%s", p.name, p.dump())
}

func mustDigest(t *testing.T, s string) swarm.Hash {
	t.Helper()
	d, err := swarm.ParseDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waitCollection waits until p's page shows collection digest seeding, with
// its n file rows inside; the page's digest must be the native one.
func (p *person) waitCollection(tb testing.TB, digest string, n int, timeout time.Duration) {
	tb.Helper()
	js := fmt.Sprintf(`(() => {
		const c = document.querySelector('[data-testid=collection][data-digest="%s"]');
		if (!c) return "";
		return c.dataset.state + ":" + c.querySelectorAll('%s').length;
	})()`, digest, selFile)
	var last string
	err := poll(p.ctx, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := evalJS[string](ctx, js)
		last = s
		return s == fmt.Sprintf("seeding:%d", n), err
	})
	if err != nil {
		tb.Fatalf("%s: collection %s shows %q, want seeding with %d files: %v\n%s", p.name, digest, last, n, err, p.dump())
	}
}
