package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tabswarm/swarm"
)

// Issue 3's e2e tests: a swarm of tabs, peers leaving and coming back, a
// reload mid-download. Each person is a separate browser context; the
// tracker is real. The lying peer is in liar_test.go.

// Sizes of the test files. Test 1 asks for 32 MiB. The churn tests need a
// download that lasts long enough to act at about half way: 8 MiB is 32
// chunks, and takes seconds between two tabs on a two-core machine.
const (
	tradeFileSize = 32 << 20
	churnFileSize = 8 << 20
)

// statsPoll is how often a test polls stats to catch "about half way".
const statsPoll = 50 * time.Millisecond

// downloadTimeout bounds one download of size bytes.
func downloadTimeout(size int64) time.Duration { return sizeTimeout(size, 1e6) }

// typeGet types input into p's get input without pressing Get.
func (p *person) typeGet(tb testing.TB, input string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+selGetInput+`').value = ''`),
		chromedp.SendKeys(chromedp.CSS(selGetInput), input),
	); err != nil {
		tb.Fatalf("%s: type %q into %s: %v", p.name, input, selGetInput, err)
	}
}

// pressGetTogether presses Get in every tab of ps at the same moment: one
// goroutine per tab, each a single click() in the page.
func pressGetTogether(tb testing.TB, ps []*person) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(ps))
	for i, p := range ps {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
			defer cancel()
			_, errs[i] = evalJS[bool](ctx, `(() => { document.querySelector('`+selGetButton+`').click(); return true; })()`)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("%s: press %s: %v", ps[i].name, selGetButton, err)
		}
	}
}

// shareSwarmFile makes the test's file and has each of seeders share it.
func shareSwarmFile(tb testing.TB, name string, size int64, seeders ...*person) testFile {
	tb.Helper()
	f := makeFile(tb, tb.TempDir(), name, size)
	for _, s := range seeders {
		start := time.Now()
		s.share(tb, f)
		tb.Logf("%s shared %s in %v", s.name, f.name, time.Since(start).Round(time.Millisecond))
	}
	return f
}

// TestSwarmLeechersTrade is issue 3's test 1: one seeder and three leechers
// who press Get together on a 32 MiB file. Every leecher saves the exact
// bytes, and each got chunks from another leecher, not only the seeder.
func TestSwarmLeechersTrade(t *testing.T) {
	e := newEnv(t)
	seeder := e.newPerson(t, "seeder", "/")
	var leechers []*person
	for i := range 3 {
		leechers = append(leechers, e.newPerson(t, fmt.Sprintf("leecher%d", i+1), "/"))
	}
	dumpOnFailure(t, append([]*person{seeder}, leechers...)...)
	f := shareSwarmFile(t, "swarm-32MiB.bin", tradeFileSize, seeder)
	for _, l := range leechers {
		l.typeGet(t, f.digest)
	}
	start := time.Now()
	pressGetTogether(t, leechers)
	for _, l := range leechers {
		l.waitRow(t, "download of "+f.digest, byDigest(f.digest), stateSeeding, downloadTimeout(f.size))
		t.Logf("%s complete after %v", l.name, time.Since(start).Round(time.Millisecond))
	}

	ids := map[string]string{} // peer ID -> person
	stats := map[*person]swarm.FileStats{}
	for _, p := range append([]*person{seeder}, leechers...) {
		s := p.mustStats(t)
		ids[s.PeerID] = p.name
		fs, ok := s.file(f.digest)
		if !ok {
			t.Fatalf("%s: stats hold no file %s\n%s", p.name, f.digest, statsText(s))
		}
		stats[p] = fs
		t.Logf("%s (%s): %s", p.name, s.PeerID, fileText(fs))
	}
	for _, l := range leechers {
		fs := stats[l]
		fromLeechers, fromSeeder := 0, 0
		for _, ps := range fs.Peers {
			switch who := ids[ps.ID]; {
			case who == seeder.name:
				fromSeeder += ps.Chunks
			case who != "" && who != l.name:
				fromLeechers += ps.Chunks
			}
		}
		t.Logf("%s: %d chunks from the seeder, %d from other leechers, of %d", l.name, fromSeeder, fromLeechers, fs.Chunks)
		if fromLeechers == 0 {
			t.Errorf("%s got no chunk from another leecher (%d from the seeder)\n%s", l.name, fromSeeder, fileText(fs))
		}
	}
	for _, l := range leechers {
		start := time.Now()
		checkSaved(t, l.name, f, l.save(t, f.digest, f.size))
		t.Logf("%s saved the file in %v", l.name, time.Since(start).Round(time.Millisecond))
	}
}

// TestSwarmSeederLeaves is issue 3's test 2: two full seeders; one closes
// its page at about half way, and the download completes from the other.
func TestSwarmSeederLeaves(t *testing.T) {
	e := newEnv(t)
	alice := e.newPerson(t, "alice", "/")
	bob := e.newPerson(t, "bob", "/")
	carol := e.newPerson(t, "carol", "/")
	dumpOnFailure(t, carol, bob)
	f := shareSwarmFile(t, "two-seeders-8MiB.bin", churnFileSize, alice, bob)
	aliceID, bobID := alice.mustStats(t).PeerID, bob.mustStats(t).PeerID

	carol.pressGet(t, f.digest)
	at := carol.waitFile(t, "half the bytes", f.digest, statsPoll, downloadTimeout(f.size), halfway)
	alice.close()
	t.Logf("alice closed her page with carol at %d/%d chunks:\n%s", at.Have, at.Chunks, fileText(at))
	if at.Received >= at.Size {
		t.Fatalf("carol had received every byte before alice could leave; the test proves nothing")
	}
	aliceBefore, _ := peerStats(at, aliceID)
	bobBefore, _ := peerStats(at, bobID)
	if aliceBefore.Received == 0 {
		t.Errorf("carol received nothing from alice before she left: %+v", aliceBefore)
	}

	carol.waitRow(t, "download after alice left", byDigest(f.digest), stateSeeding, downloadTimeout(f.size))
	end := carol.mustStats(t)
	fs, _ := end.file(f.digest)
	t.Logf("carol at the end: %s", fileText(fs))
	aliceAfter, _ := peerStats(fs, aliceID)
	if aliceAfter.Connected {
		// Noticing a vanished tab takes ICE some seconds; the requests
		// she left unanswered went to bob meanwhile.
		t.Logf("carol has not yet noticed that alice left")
	}
	// Bytes, not chunks: a chunk received before the close may be verified
	// and credited after it.
	bobAfter, _ := peerStats(fs, bobID)
	if bobAfter.Received <= bobBefore.Received {
		t.Errorf("carol received %d bytes from bob before alice left and %d at the end: the rest did not come from him",
			bobBefore.Received, bobAfter.Received)
	}
	// What arrived before the close but was read after it counts late.
	t.Logf("carol counted %d bytes from alice and %d from bob after alice closed her page",
		aliceAfter.Received-aliceBefore.Received, bobAfter.Received-bobBefore.Received)
	checkSaved(t, carol.name, f, carol.save(t, f.digest, f.size))
}

// TestSwarmSeederReturns is issue 3's test 3: the only seeder closes at
// about half way and the download stalls; the seeder opens the app again
// in a new tab of the same browser context, so its IndexedDB is intact, and
// the download finishes without fetching again what it held.
func TestSwarmSeederReturns(t *testing.T) {
	e := newEnv(t)
	// dora's first tab stays on about:blank and keeps her browser context,
	// and so her IndexedDB, while her app tabs close and open.
	dora := e.newBlankPerson(t, "dora")
	tab1 := dora.newTab(t, "dora-tab1")
	tab1.open(t, "/")
	erin := e.newPerson(t, "erin", "/")
	dumpOnFailure(t, erin)
	f := shareSwarmFile(t, "comeback-8MiB.bin", churnFileSize, tab1)
	cs := swarm.ChunkSize(f.size)

	erin.pressGet(t, f.digest)
	at := erin.waitFile(t, "half the bytes", f.digest, statsPoll, downloadTimeout(f.size), halfway)
	tab1.close()
	t.Logf("dora closed her tab with erin at %d/%d chunks, %d of %d bytes received", at.Have, at.Chunks, at.Received, at.Size)
	if at.Received >= at.Size {
		t.Fatalf("erin had received every byte before dora could leave; the test proves nothing")
	}

	erin.waitRow(t, "download with its only seeder gone", byDigest(f.digest), stateStalled, time.Minute)
	stalled := erin.waitFile(t, "stats to say stalled", f.digest, statsPoll, stepTimeout, func(fs swarm.FileStats) bool {
		return fs.State == swarm.StateStalled
	})
	t.Logf("erin stalled: %s", fileText(stalled))
	if stalled.Have == stalled.Chunks {
		t.Fatalf("erin is complete while stalled")
	}

	tab2 := dora.newTab(t, "dora-tab2")
	tab2.open(t, "/")
	tab2.waitRow(t, f.name+" found again in IndexedDB", byDigest(f.digest), stateSeeding, time.Minute)
	erin.waitRow(t, "download after dora came back", byDigest(f.digest), stateSeeding, downloadTimeout(f.size))

	fs, _ := erin.mustStats(t).file(f.digest)
	t.Logf("erin at the end: %s", fileText(fs))
	slack := cs * int64(len(fs.Peers))
	if fs.Received > f.size+slack {
		t.Errorf("erin received %d bytes for a %d-byte file, more than one chunk (%d) per peer (%d) over: chunks were fetched again",
			fs.Received, f.size, cs, len(fs.Peers))
	}
	chunks := 0
	for _, p := range fs.Peers {
		chunks += p.Chunks
	}
	if chunks != fs.Chunks {
		t.Errorf("erin's peers gave %d verified chunks of %d", chunks, fs.Chunks)
	}
	checkSaved(t, erin.name, f, erin.save(t, f.digest, f.size))
}

// TestSwarmLeecherReloads is issue 3's test 4: a leecher reloads at about
// half way and resumes from IndexedDB; what it receives after the reload is
// at most what it missed plus one chunk per peer.
func TestSwarmLeecherReloads(t *testing.T) {
	e := newEnv(t)
	fred := e.newPerson(t, "fred", "/")
	gina := e.newPerson(t, "gina", "/")
	dumpOnFailure(t, gina, fred)
	f := shareSwarmFile(t, "reload-8MiB.bin", churnFileSize, fred)
	cs := swarm.ChunkSize(f.size)

	gina.pressGet(t, f.digest)
	at := gina.waitFile(t, "half the bytes", f.digest, statsPoll, downloadTimeout(f.size), halfway)
	gina.reload(t)
	t.Logf("gina reloaded at %d/%d chunks, %d of %d bytes received", at.Have, at.Chunks, at.Received, at.Size)
	if at.Have == at.Chunks {
		t.Fatalf("gina finished before she could reload; the test proves nothing")
	}

	resumed := gina.waitFile(t, "the download back from IndexedDB", f.digest, statsPoll, time.Minute, func(swarm.FileStats) bool { return true })
	local := localBytes(resumed)
	missing := f.size - local
	t.Logf("after the reload gina holds %d bytes from IndexedDB; %d missing", local, missing)
	if local < int64(at.Have)*cs {
		t.Errorf("gina had %d verified chunks before the reload but found only %d bytes (%d chunks' worth) in IndexedDB",
			at.Have, local, local/cs)
	}

	gina.waitRow(t, "download after the reload", byDigest(f.digest), stateSeeding, downloadTimeout(f.size))
	fs, _ := gina.mustStats(t).file(f.digest)
	t.Logf("gina at the end: %s", fileText(fs))
	slack := cs * int64(len(fs.Peers))
	if fs.Received > missing+slack {
		t.Errorf("after the reload gina received %d bytes; %d were missing, plus one chunk (%d) per peer (%d) allows %d",
			fs.Received, missing, cs, len(fs.Peers), missing+slack)
	}
	checkSaved(t, gina.name, f, gina.save(t, f.digest, f.size))
}
