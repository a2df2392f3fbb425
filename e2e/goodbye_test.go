package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tabswarm/swarm"
)

// goodbyeWithin bounds how soon a seeder sees a tab that went away leave.
// A tab that leaves without a word is noticed only when ICE gives up on
// it: about 7 s for a native peer (5 s to "disconnected", then the
// connector's 2 s of grace) and 9 s between tabs.
const goodbyeWithin = 3 * time.Second

// TestTabSaysGoodbye: a tab that goes away mid-transfer (here it navigates
// elsewhere) closes its peer connections as it goes, so the seeder sends
// it nothing more and drops it at once.
func TestTabSaysGoodbye(t *testing.T) {
	e := newEnv(t)
	bob := e.newPerson(t, "bob", "/")
	dumpOnFailure(t, bob)
	f := makeFile(t, t.TempDir(), "goodbye-4MiB.bin", churnFileSize)
	chunks := numChunks(f.size)
	alice := e.startGatedSeeder(t, "alice", f, chunks/4)
	d, err := swarm.ParseDigest(f.digest)
	if err != nil {
		t.Fatal(err)
	}
	connected := func() int {
		s, _ := alice.node.File(d)
		n := 0
		for _, p := range s.Peers {
			if p.Connected {
				n++
			}
		}
		return n
	}

	bob.pressGet(t, f.digest)
	bob.waitFile(t, "alice's quarter", f.digest, statsPoll, downloadTimeout(f.size), haveAtLeast(chunks/4))
	for deadline := time.Now().Add(stepTimeout); connected() != 1; time.Sleep(statsPoll) {
		if time.Now().After(deadline) {
			s, _ := alice.node.File(d)
			t.Fatalf("alice is not connected to bob alone mid-transfer: %+v", s)
		}
	}
	ctx, cancel := context.WithTimeout(bob.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	left := time.Now()
	for connected() > 0 {
		if time.Since(left) > goodbyeWithin {
			t.Fatalf("alice still connected to bob %v after his tab went away", goodbyeWithin)
		}
		time.Sleep(statsPoll)
	}
	t.Logf("alice dropped bob %v after his tab went away", time.Since(left).Round(time.Millisecond))
}
