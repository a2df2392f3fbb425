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

// Sizes of the test files. Test 1 asks for 32 MiB. The churn tests act
// partway through a download whose seeders are gated (gate_test.go), so
// their file need not last long: 4 MiB is 16 chunks.
const (
	tradeFileSize = 32 << 20
	churnFileSize = 4 << 20
)

// statsPoll is how often a test polls stats for a state it waits for.
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

// TestSwarmSeederLeaves is issue 3's test 2: two full seeders; one leaves
// partway, and the download completes from the other. Both seeders are
// native and gated, so the leaving is certainly mid-transfer: alice serves
// a quarter of the chunks and bob none until alice has left.
func TestSwarmSeederLeaves(t *testing.T) {
	e := newEnv(t)
	carol := e.newPerson(t, "carol", "/")
	dumpOnFailure(t, carol)
	f := makeFile(t, t.TempDir(), "two-seeders-4MiB.bin", churnFileSize)
	chunks := numChunks(f.size)
	alice := e.startGatedSeeder(t, "alice", f, chunks/4)
	bob := e.startGatedSeeder(t, "bob", f, 0)
	aliceID, bobID := alice.node.PeerID(), bob.node.PeerID()

	carol.pressGet(t, f.digest)
	at := carol.waitFile(t, "alice's quarter", f.digest, statsPoll, downloadTimeout(f.size), haveAtLeast(chunks/4))
	alice.stop()
	bob.gate.Release()
	t.Logf("alice left with carol at %d/%d chunks:\n%s", at.Have, at.Chunks, fileText(at))
	if at.Have >= at.Chunks {
		t.Fatalf("carol had every chunk before alice left: the gate let too much through")
	}
	aliceBefore, _ := peerStats(at, aliceID)
	bobBefore, _ := peerStats(at, bobID)
	if aliceBefore.Received == 0 {
		t.Errorf("carol received nothing from alice before she left: %+v", aliceBefore)
	}

	carol.waitRow(t, "download after alice left", byDigest(f.digest), stateSeeding, downloadTimeout(f.size))
	fs := carol.waitFile(t, "carol to drop alice", f.digest, statsPoll, stepTimeout, func(fs swarm.FileStats) bool {
		p, ok := peerStats(fs, aliceID)
		return !ok || !p.Connected
	})
	t.Logf("carol at the end: %s", fileText(fs))
	// Bytes, not chunks: a chunk received before alice left may be
	// verified and credited after it.
	bobAfter, _ := peerStats(fs, bobID)
	if bobAfter.Received <= bobBefore.Received {
		t.Errorf("carol received %d bytes from bob before alice left and %d at the end: the rest did not come from him",
			bobBefore.Received, bobAfter.Received)
	}
	checkSaved(t, carol.name, f, carol.save(t, f.digest, f.size))
}

// TestSwarmSeederReturns is issue 3's test 3: the only seeder leaves at
// half way and the download stalls; the seeder comes back, and the
// download finishes without fetching again what it held. The seeder is a
// native peer gated at half the chunks, so the download cannot finish
// before it leaves; it comes back as a new process sharing the same file.
// A tab that seeds again from IndexedDB after a reopen is the spine test's.
func TestSwarmSeederReturns(t *testing.T) {
	e := newEnv(t)
	erin := e.newPerson(t, "erin", "/")
	dumpOnFailure(t, erin)
	f := makeFile(t, t.TempDir(), "comeback-4MiB.bin", churnFileSize)
	cs := swarm.ChunkSize(f.size)
	half := numChunks(f.size) / 2
	dora := e.startGatedSeeder(t, "dora", f, half)

	erin.pressGet(t, f.digest)
	at := erin.waitFile(t, "half the chunks", f.digest, statsPoll, downloadTimeout(f.size), haveAtLeast(half))
	dora.stop()
	t.Logf("dora left with erin at %d/%d chunks, %d of %d bytes received", at.Have, at.Chunks, at.Received, at.Size)

	erin.waitRow(t, "download with its only seeder gone", byDigest(f.digest), stateStalled, time.Minute)
	stalled := erin.waitFile(t, "stats to say stalled", f.digest, statsPoll, stepTimeout, func(fs swarm.FileStats) bool {
		return fs.State == swarm.StateStalled
	})
	t.Logf("erin stalled: %s", fileText(stalled))
	if stalled.Have == stalled.Chunks {
		t.Fatalf("erin is complete while stalled")
	}

	e.startGatedSeeder(t, "dora-back", f, stalled.Chunks)
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

// TestSwarmLeecherReloads is issue 3's test 4: a leecher reloads at half
// way and resumes from IndexedDB; what it receives after the reload is at
// most what it missed plus one chunk per peer. The seeder is a native peer
// that serves half the chunks until the reload is done.
func TestSwarmLeecherReloads(t *testing.T) {
	e := newEnv(t)
	gina := e.newPerson(t, "gina", "/")
	dumpOnFailure(t, gina)
	f := makeFile(t, t.TempDir(), "reload-4MiB.bin", churnFileSize)
	cs := swarm.ChunkSize(f.size)
	half := numChunks(f.size) / 2
	fred := e.startGatedSeeder(t, "fred", f, half)

	gina.pressGet(t, f.digest)
	at := gina.waitFile(t, "half the chunks", f.digest, statsPoll, downloadTimeout(f.size), haveAtLeast(half))
	gina.reload(t)
	fred.gate.Release()
	t.Logf("gina reloaded at %d/%d chunks, %d of %d bytes received", at.Have, at.Chunks, at.Received, at.Size)
	if at.Have == at.Chunks {
		t.Fatalf("gina had every chunk before she reloaded: the gate let too much through")
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
