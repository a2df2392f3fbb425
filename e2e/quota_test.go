package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// TestStorageFull caps Bob's browser storage at 6 MiB. Sharing a 24 MiB
// file (hashed in full, then refused when stored), and getting an 8 MiB
// one from Alice (some chunk writes succeed before one fails), each end in
// an error row that says the storage is full;
// the failed share leaves nothing stored, and Alice keeps seeding, so Carol
// still gets the file byte for byte.
func TestStorageFull(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	f := makeFile(t, dir, "alice-8MiB.bin", 8<<20)
	own := makeFile(t, dir, "bob-24MiB.bin", 24<<20)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f)
	e.waitListed(t, f.digest)

	bob := e.newPerson(t, "bob", "/")
	quota := float64(6 << 20)
	if _, err := chromedp.Call(bob.ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{
		Origin: e.base, QuotaSize: &quota,
	}); err != nil {
		t.Fatal(err)
	}
	says := func(text string) bool { return strings.Contains(text, "storage") && strings.Contains(text, "full") }

	if err := chromedp.Do(bob.ctx, chromedp.SetUploadFiles(chromedp.CSS(selShareInput), []string{own.path})); err != nil {
		t.Fatal(err)
	}
	r := bob.waitRow(t, "the share over the quota", byName(own.name), stateError, stepTimeout)
	if !says(r.Text) {
		t.Errorf("share row says %q, want it to say the storage is full", r.Text)
	}

	bob.typeGet(t, f.digest)
	if err := chromedp.Do(bob.ctx, chromedp.Click(chromedp.CSS(selGetButton))); err != nil {
		t.Fatal(err)
	}
	r = bob.waitRow(t, "the download over the quota", byDigest(f.digest), stateError, stepTimeout)
	if !says(r.Text) {
		t.Errorf("download row says %q, want it to say the storage is full", r.Text)
	}

	bob.checkShareLeftNothing(t, own.name)

	carol := e.newPerson(t, "carol", "/")
	carol.get(t, f.digest, f.digest, f.size)
	checkSaved(t, "carol", f, carol.save(t, f.digest, f.size))
}

// checkShareLeftNothing fails tb unless p's IndexedDB holds no shared file
// and, after a reload, p lists no row for the file called name: what a
// failed share must leave.
func (p *person) checkShareLeftNothing(tb testing.TB, name string) {
	tb.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](storedContentsJS, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatal(err)
	}
	if n != 0 {
		tb.Errorf("%s's IndexedDB keeps %d shared files, want none", p.name, n)
	}
	p.reload(tb)
	rs, err := p.rows(p.ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rs {
		if r.Name == name {
			tb.Errorf("after a reload %s lists the failed share: %s", p.name, r)
		}
	}
}

// storedContentsJS counts the whole files a page's IndexedDB holds: one for
// each file shared from it.
const storedContentsJS = `new Promise((resolve, reject) => {
	const open = indexedDB.open("tabswarm");
	open.onerror = () => reject(open.error);
	open.onsuccess = () => {
		const db = open.result;
		const req = db.transaction("contents").objectStore("contents").count();
		req.onerror = () => reject(req.error);
		req.onsuccess = () => {
			db.close();
			resolve(req.result);
		};
	};
})`
