package e2e

import (
	"fmt"
	"testing"
	"time"

	"tabswarm/swarm"
)

// spineFiles are the sizes issue 2 asks for: empty, one byte, exactly one
// chunk, one chunk and one byte, and 8 MiB of random data.
func spineFiles(tb testing.TB) []testFile {
	tb.Helper()
	cs := swarm.ChunkSize(1) // the chunk size of every small file
	if swarm.ChunkSize(cs) != cs || swarm.ChunkSize(cs+1) != cs {
		tb.Fatalf("chunk size rule changed: ChunkSize(%d)=%d, ChunkSize(%d)=%d",
			cs, swarm.ChunkSize(cs), cs+1, swarm.ChunkSize(cs+1))
	}
	dir := tb.TempDir()
	return []testFile{
		makeFile(tb, dir, "empty.bin", 0),
		makeFile(tb, dir, "one-byte.bin", 1),
		makeFile(tb, dir, "one-chunk.bin", cs),
		makeFile(tb, dir, "one-chunk-plus-one.bin", cs+1),
		makeFile(tb, dir, "random-8MiB.bin", 8<<20),
	}
}

// TestShareGetReload is the spine of issue 2: Alice shares files, Bob gets
// each by digest and saves it byte for byte; Bob leaves, Alice reloads and
// seeds again from IndexedDB, and a fresh Carol gets every file from her.
func TestShareGetReload(t *testing.T) {
	e := newEnv(t)
	files := spineFiles(t)

	alice := e.newPerson(t, "alice", "/")
	t.Run("alice-shares", func(t *testing.T) {
		for _, f := range files {
			start := time.Now()
			alice.share(t, f)
			t.Logf("alice shared %s (%d bytes) as %s in %v", f.name, f.size, f.digest, time.Since(start).Round(time.Millisecond))
		}
		// A plain-http page has no crypto.subtle: it hashes on workers.
		alice.waitConsole(t, "hashing workers started", 5*time.Second)
	})
	if t.Failed() {
		t.FailNow()
	}

	bob := e.newPerson(t, "bob", "/")
	getAll(t, bob, files)

	t.Run("alice-reloads", func(t *testing.T) {
		bob.close() // so that Carol can only get the files from Alice
		alice.reload(t)
		for _, f := range files {
			r := alice.waitRow(t, fmt.Sprintf("%s after reload", f.name), byDigest(f.digest), stateSeeding, time.Minute)
			if r.Name != f.name {
				t.Errorf("after reload the row for %s is named %q, want %q", f.digest, r.Name, f.name)
			}
		}
	})

	carol := e.newPerson(t, "carol", "/")
	getAll(t, carol, files)
}

// getAll has p get each file by digest, save it, and compare the bytes.
func getAll(t *testing.T, p *person, files []testFile) {
	t.Helper()
	for _, f := range files {
		t.Run(p.name+"-gets-"+f.name, func(t *testing.T) {
			took := p.get(t, f.digest, f.digest, f.size)
			t.Logf("%s got %s (%d bytes) in %v", p.name, f.name, f.size, took.Round(time.Millisecond))
			checkSaved(t, p.name, f, p.save(t, f.digest, f.size))
		})
	}
}

// TestShareLink opens a share link, http://HOST:PORT/#DIGEST, in a fresh
// browser context, and types the query form, http://HOST:PORT/?d=DIGEST,
// into the get input in another: both start the download.
func TestShareLink(t *testing.T) {
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "linked.bin", 3<<20)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f)
	link := e.base + "/#" + f.digest

	t.Run("open", func(t *testing.T) {
		dan := e.newPerson(t, "dan", "/#"+f.digest)
		dan.waitRow(t, "download started by opening "+link, byDigest(f.digest), stateSeeding, sizeTimeout(f.size, 1e6))
		checkSaved(t, "dan", f, dan.save(t, f.digest, f.size))
	})
	t.Run("paste", func(t *testing.T) {
		erin := e.newPerson(t, "erin", "/")
		erin.get(t, e.base+"/?d="+f.digest, f.digest, f.size)
		checkSaved(t, "erin", f, erin.save(t, f.digest, f.size))
	})
}

// TestBadInput checks that a malformed digest and a digest nobody holds each
// get a clear message, and that they break nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	alice := e.newPerson(t, "alice", "/")

	for _, bad := range []string{
		"not-a-digest",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",   // 63 hex
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefg", // 65 chars, not hex at the end
		"zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",  // 64 chars, not hex
	} {
		t.Run(fmt.Sprintf("malformed-%d-chars", len(bad)), func(t *testing.T) {
			before := alice.badInputState(t)
			if before.Message != "" {
				// A fresh page, so the message seen next is about this input.
				alice.reload(t)
				before = alice.badInputState(t)
			}
			alice.pressGet(t, bad)
			msg := alice.waitBadInput(t, bad, before)
			t.Logf("message for %q: %q", bad, msg)
		})
	}

	t.Run("nobody-holds", func(t *testing.T) {
		d := nativeDigest([]byte("a file nobody shares")).String()
		alice.pressGet(t, d)
		r := alice.waitRowIn(t, "digest nobody holds", byDigest(d), []string{stateStalled, stateError}, 90*time.Second)
		if r.Text == "" {
			t.Errorf("row for a digest nobody holds is %s with no message", r.State)
		}
		t.Logf("row for a digest nobody holds: %s", r)
	})

	t.Run("still-works", func(t *testing.T) {
		f := makeFile(t, t.TempDir(), "after-bad-input.bin", 1000)
		alice.share(t, f)
		rs, err := alice.rows(alice.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Digest != f.digest && r.State != stateError && r.State != stateStalled {
				t.Errorf("bad input left a row that is not in error or stalled: %s", r)
			}
		}
	})
}
