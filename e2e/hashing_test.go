package e2e

import (
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
