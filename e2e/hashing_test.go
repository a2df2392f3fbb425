package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestShareWithoutHashingWorkers blocks the hashing worker's wasm: the share
// still completes, hashed on the page's own thread, with the same digest as
// the native peer, and Bob gets the file.
func TestShareWithoutHashingWorkers(t *testing.T) {
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "no-workers.bin", 3<<20+7)
	alice := e.newPerson(t, "alice", "/")
	if _, err := chromedp.Call(alice.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(alice.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/dist/hasher.wasm", Block: true}},
	}); err != nil {
		t.Fatal(err)
	}
	defer chromedp.Call(alice.ctx, network.Disable, cdp.Empty{})
	alice.share(t, f)
	alice.waitConsole(t, "hashing on the page's thread", 5*time.Second)
	e.waitListed(t, f.digest)
	bob := e.newPerson(t, "bob", "/")
	bob.get(t, f.digest, f.digest, f.size)
	checkSaved(t, "bob", f, bob.save(t, f.digest, f.size))
}

// TestShareFileChanged truncates a file on disk while Alice's tab is
// hashing it: the share ends in an error row that says the file could not
// be read, stores nothing, and the file is not listed after a reload.
func TestShareFileChanged(t *testing.T) {
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "changing.bin", 256<<20)
	alice := e.newPerson(t, "alice", "/")
	if err := chromedp.Do(alice.ctx, chromedp.SetUploadFiles(chromedp.CSS(selShareInput), []string{f.path})); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f.path, f.size/2); err != nil {
		t.Fatal(err)
	}
	r := alice.waitRow(t, "the share of a file that changed", byName(f.name), stateError, stepTimeout)
	if !strings.Contains(r.Text, "could not be read") || r.Digest != "" {
		t.Errorf("the failed share's row is %s, want no digest and a text saying the file could not be read", r)
	}
	alice.checkShareLeftNothing(t, f.name)
}
