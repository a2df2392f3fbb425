package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// openDBJS opens the app's database at version v from a tab of the same
// origin, as another version of the page would, keeps the connection in
// window.__db, and resolves to the open's first outcome: "success" or
// "blocked". That connection never lets go on its own.
const openDBJS = `new Promise((resolve) => {
	const req = indexedDB.open("tabswarm", %d);
	req.onsuccess = () => { window.__db = req.result; resolve("success"); };
	req.onblocked = () => resolve("blocked");
	req.onerror = () => resolve("error: " + req.error);
})`

// statusJS is the page's status line: its state, a space, its text.
const statusJS = `(() => { const s = document.querySelector('[data-testid=status]'); return s.dataset.state + ' ' + s.textContent; })()`

// TestDatabaseVersionAcrossTabs: with an older version of the database
// held open in another tab, the page says what it waits for, and starts
// once that tab lets go. Then a newer version opened in another tab is not
// kept waiting: the page closes its connection and asks for a reload,
// and its peer keeps running.
func TestDatabaseVersionAcrossTabs(t *testing.T) {
	e := newEnv(t)
	old := e.newBlankPerson(t, "old")
	if err := chromedp.Do(old.ctx, chromedp.Navigate(e.base+"/healthz")); err != nil {
		t.Fatal(err)
	}
	if got := stepJS[string](t, old, "open the database at version 1", strings.Replace(openDBJS, "%d", "1", 1)); got != "success" {
		t.Fatalf("old tab: open at version 1: %s", got)
	}

	page := old.newTab(t, "page")
	go chromedp.Do(page.ctx, chromedp.Navigate(page.url("/")))
	waitStatus(t, page, "older version")
	stepJS[any](t, old, "close the old connection", `window.__db.close()`)
	page.waitReady(t)

	if got := stepJS[string](t, old, "open the database at a newer version", strings.Replace(openDBJS, "%d", "99", 1)); got != "success" {
		t.Fatalf("old tab: open at a newer version: %s, want success at once", got)
	}
	st := waitStatus(t, page, "reload")
	if !strings.HasPrefix(st, "updated ") {
		t.Errorf("page status %q, want state updated", st)
	}
	// A peer that panicked throws "Go program has already exited" here.
	if !stepJS[bool](t, page, "stats", `(() => { return tabswarm.stats() != null; })()`) {
		t.Error("the peer stopped answering once its storage closed")
	}
	if st := stepJS[string](t, page, "status", statusJS); strings.Contains(st, "stopped") {
		t.Errorf("page status %q: the peer stopped", st)
	}
}

// waitStatus waits until p's status line contains substr and returns it.
func waitStatus(tb testing.TB, p *person, substr string) string {
	tb.Helper()
	var st string
	err := poll(p.ctx, 20*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var err error
		st, err = evalJS[string](ctx, statusJS)
		return strings.Contains(st, substr), err
	})
	if err != nil {
		tb.Fatalf("%s: status %q, want it to contain %q: %v\n%s", p.name, st, substr, err, p.dump())
	}
	return st
}
