package swarm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// testEntries are three files, one empty, in no particular order.
func testEntries() []Entry {
	return []Entry{
		{Path: "photos/b.jpg", Digest: testManifest(300 << 10).Digest, Size: 300 << 10},
		{Path: "a.txt", Digest: testManifest(5).Digest, Size: 5},
		{Path: "empty", Digest: testManifest(0).Digest, Size: 0},
	}
}

func TestCollectionDigestStable(t *testing.T) {
	c, err := NewCollection("holiday", testEntries())
	if err != nil {
		t.Fatal(err)
	}
	// The canonical encoding is part of the format: peers of different
	// builds must agree on it. The golden digest was computed by a separate
	// implementation (a few lines of Python) of the encoding CollectionDigest
	// documents, for entries whose file digests are 01 00.., 02 00.., 03 00...
	golden := []Entry{{"photos/b.jpg", Hash{3}, 300 << 10}, {"a.txt", Hash{1}, 5}, {"empty", Hash{2}, 0}}
	if g, err := NewCollection("x", golden); err != nil || g.Digest.String() != "06fd83a4dc8679dfa5dcb8105bd71599782a5d565a436ce8ecb6839ac735f2e6" {
		t.Errorf("golden collection: %v, %v", g, err)
	}
	if c.Files[0].Path != "a.txt" || c.Files[2].Path != "photos/b.jpg" || c.Size != 300<<10+5 {
		t.Errorf("entries not in path order, or size wrong: %+v", c)
	}
	// Name and input order do not count; each entry's path, size and
	// digest do.
	rev := testEntries()
	rev[0], rev[2] = rev[2], rev[0]
	if c2, _ := NewCollection("other name", rev); c2.Digest != c.Digest {
		t.Error("the name or the order of the input changed the digest")
	}
	for i, change := range []func(*Entry){
		func(e *Entry) { e.Path = "photos/c.jpg" },
		func(e *Entry) { e.Size++ },
		func(e *Entry) { e.Digest[0] ^= 1 },
	} {
		es := testEntries()
		change(&es[0])
		if c2, err := NewCollection("holiday", es); err != nil || c2.Digest == c.Digest {
			t.Errorf("change %d: digest unchanged (err %v)", i, err)
		}
	}
	// A file's digest and a collection's never meet: the version byte differs.
	if CollectionDigest(nil) == ComputeDigest(0, MinChunkSize, nil) {
		t.Error("an empty collection hashes like an empty file")
	}
}

func TestCollectionRoundTrip(t *testing.T) {
	c, err := NewCollection("holiday", testEntries())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	m, got, err := ParseP2T(raw, c.Digest)
	if err != nil || m != nil || got.Digest != c.Digest || len(got.Files) != 3 {
		t.Fatalf("ParseP2T(collection) = %v, %+v, %v", m, got, err)
	}
	if _, err := ParseCollection(raw, testManifest(5).Digest); !errors.Is(err, ErrBadManifest) {
		t.Errorf("a collection for another digest: %v", err)
	}
	// New readers still read a single file's manifest.
	fm := testManifest(5)
	rawFile, _ := json.Marshal(fm)
	if m, c, err := ParseP2T(rawFile, fm.Digest); err != nil || c != nil || m.Digest != fm.Digest {
		t.Errorf("ParseP2T(file) = %v, %v, %v", m, c, err)
	}
	// A reader of single files refuses a collection, and says what it is.
	if _, err := ParseManifest(raw, Hash{}); !errors.Is(err, ErrCollection) || !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "collection") {
		t.Errorf("ParseManifest(collection): %v", err)
	}
	// A newer format is refused by both, with a message that says so.
	newer := strings.Replace(string(raw), `"version":2`, `"version":3`, 1)
	if _, _, err := ParseP2T([]byte(newer), Hash{}); !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "newer") {
		t.Errorf("ParseP2T(version 3): %v", err)
	}
	if _, err := ParseManifest([]byte(newer), Hash{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("ParseManifest(version 3): %v", err)
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"a", "a/b/c.txt", "ü ñ/日本.txt", "..a", "a..", ".hidden/x"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{
		"", "/etc/passwd", "../x", "a/../../x", "a/..", "./a", "a/./b", "a//b", "a/",
		"a\\b", "..\\x", "a\x00b", "a\nb", "a\x1bb", "a\u0085b", "\xff",
		"evil\u202egpj.exe", "a/\u2066b", "\u200fx",
		strings.Repeat("x", MaxNameLen+1), strings.Repeat("a/", MaxPathLen/2) + "b",
	} {
		if err := CheckPath(p); !errors.Is(err, ErrBadPath) {
			t.Errorf("CheckPath(%q) = %v, want ErrBadPath", p, err)
		}
	}
}

func TestCollectionValidateBad(t *testing.T) {
	d := testManifest(5).Digest
	for name, es := range map[string][]Entry{
		"none":          nil,
		"bad path":      {{Path: "../x", Digest: d, Size: 5}},
		"twice":         {{Path: "a", Digest: d, Size: 5}, {Path: "a", Digest: d, Size: 5}},
		"file & folder": {{Path: "a", Digest: d, Size: 5}, {Path: "a/b", Digest: d, Size: 5}},
		"negative":      {{Path: "a", Digest: d, Size: -1}},
	} {
		if _, err := NewCollection("x", es); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: NewCollection = %v, want ErrBadManifest", name, err)
		}
	}
	many := make([]Entry, MaxCollectionFiles+1)
	for i := range many {
		many[i] = Entry{Path: strings.Repeat("x", 1+i%200) + "/" + string(rune('a'+i%26)) + strings.Repeat("y", i/26), Digest: d, Size: 5}
	}
	if _, err := NewCollection("x", many); !errors.Is(err, ErrBadManifest) {
		t.Errorf("%d files: %v", len(many), err)
	}

	good, _ := NewCollection("x", testEntries())
	raw, _ := json.Marshal(good)
	for name, edit := range map[string]func(string) string{
		"size sum":      func(s string) string { return strings.Replace(s, `"size":307205`, `"size":307206`, 1) },
		"unknown field": func(s string) string { return strings.Replace(s, `"name":`, `"extra":1,"name":`, 1) },
		"tampered path": func(s string) string { return strings.Replace(s, `"a.txt"`, `"b.txt"`, 1) },
		"out of order":  func(s string) string { return strings.Replace(s, `"a.txt"`, `"zzz"`, 1) },
		"not JSON":      func(s string) string { return s[:len(s)/2] },
		"too big":       func(s string) string { return s + strings.Repeat(" ", MaxCollectionBytes) },
	} {
		bad := edit(string(raw))
		if bad == string(raw) {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if _, err := ParseCollection([]byte(bad), Hash{}); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: ParseCollection = %v, want ErrBadManifest", name, err)
		}
	}
}
