package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tabswarm/swarm"
)

// TestCollection: Alice picks three files at once (one empty), which the
// page shares as one collection; Bob pastes the collection's one digest,
// gets every file, and saves each byte-identical. After a reload Bob's tab
// still shows the collection.
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
		d, _ := swarm.ParseDigest(f.digest)
		entries = append(entries, swarm.Entry{Path: f.name, Digest: d, Size: f.size})
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
	alice.waitCollection(t, digest, time.Minute)

	bob := e.newPerson(t, "bob", "/")
	bob.pressGet(t, digest)
	bob.waitCollection(t, digest, 2*time.Minute)
	for _, f := range files {
		checkSaved(t, "bob", f, bob.save(t, f.digest, f.size))
	}

	bob.reload(t)
	bob.waitCollection(t, digest, time.Minute)
}

// waitCollection waits until p's page shows collection digest seeding, with
// its three file rows inside; the page's digest must be the native one.
func (p *person) waitCollection(tb testing.TB, digest string, timeout time.Duration) {
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
		return s == "seeding:3", err
	})
	if err != nil {
		tb.Fatalf("%s: collection %s shows %q, want seeding with 3 files: %v\n%s", p.name, digest, last, err, p.dump())
	}
}
