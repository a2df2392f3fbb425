package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tabswarm/swarm"
)

// TestSeedDirGetFolder seeds a folder as a collection (a nested file, an
// empty one, two with the same bytes, a symbolic link that is skipped) and
// gets it back by digest and by .p2t: every file byte-identical, in a
// folder of the collection's name or -o.
func TestSeedDirGetFolder(t *testing.T) {
	url := startTracker(t)
	src := filepath.Join(t.TempDir(), "holiday")
	os.MkdirAll(filepath.Join(src, "photos", "day 1"), 0o755)
	want := map[string][]byte{
		"photos/day 1/a.bin": writeRandom(t, filepath.Join(src, "photos", "day 1", "a.bin"), 700<<10, 1),
		"notes.txt":          writeRandom(t, filepath.Join(src, "notes.txt"), 1234, 2),
		"copy.txt":           writeRandom(t, filepath.Join(src, "copy.txt"), 1234, 2),
		"empty":              nil,
	}
	os.WriteFile(filepath.Join(src, "empty"), nil, 0o644)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("not shared"), 0o644)
	os.Symlink(secret, filepath.Join(src, "link"))

	seeder := start(t, "seed", src, "--tracker", url)
	digest := seeder.waitOut(t, `(?m)^([0-9a-f]{64})  holiday/ \(4 files`)

	check := func(root string) {
		t.Helper()
		n := 0
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return err
		})
		if n != len(want) {
			t.Errorf("%s holds %d files, want %d", root, n, len(want))
		}
		for p, b := range want {
			sameFile(t, filepath.Join(root, filepath.FromSlash(p)), b)
		}
	}
	work := t.TempDir()
	t.Chdir(work)
	stdout, stderr, err := runCmd(t, "get", digest, "--tracker", url)
	if err != nil {
		t.Fatalf("get: %v; stderr %s", err, stderr)
	}
	if strings.TrimSpace(stdout) != "holiday" || !strings.Contains(stderr, "100.0%") {
		t.Errorf("get printed %q; stderr %q", stdout, stderr)
	}
	check(filepath.Join(work, "holiday"))

	// By .p2t, into -o; the tracker's collection is the .p2t.
	m, c := fetchP2T(t, url, digest)
	if m != nil || c.Name != "holiday" {
		t.Fatalf("the tracker's .p2t: %v %+v", m, c)
	}
	raw, _ := json.Marshal(c)
	p2t := filepath.Join(t.TempDir(), "holiday.p2t")
	os.WriteFile(p2t, raw, 0o644)
	out := filepath.Join(t.TempDir(), "out")
	if _, stderr, err := runCmd(t, "get", p2t, "--tracker", url, "-o", out); err != nil {
		t.Fatalf("get p2t: %v; stderr %s", err, stderr)
	}
	check(out)

	// A folder on the way that is a symbolic link is not written through.
	evil := filepath.Join(t.TempDir(), "evil")
	os.Mkdir(evil, 0o755)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(evil, "photos"))
	if _, _, err := runCmd(t, "get", digest, "--tracker", url, "-o", evil); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("get through a linked folder: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("wrote %d entries through the link", len(ents))
	}
}

// fetchP2T asks the tracker's API for digest's .p2t.
func fetchP2T(t *testing.T, url, digest string) (*swarm.Manifest, *swarm.Collection) {
	t.Helper()
	resp, err := http.Get(url + "/api/files/" + digest)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fi struct{ Manifest json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&fi); err != nil {
		t.Fatal(err)
	}
	m, c, err := swarm.ParseP2T(fi.Manifest, swarm.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// TestMemberTarget: a collection's paths stay inside the folder, whatever
// the entry says.
func TestMemberTarget(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	for _, p := range []string{"../x", "/etc/passwd", "a/../../x", "a\\..\\x", "a\x00", "evil\u202egpj.exe"} {
		if _, err := memberTarget(root, swarm.Entry{Path: p}); !errors.Is(err, swarm.ErrBadPath) {
			t.Errorf("memberTarget(%q) = %v, want ErrBadPath", p, err)
		}
	}
	got, err := memberTarget(root, swarm.Entry{Path: "a/b/c.txt"})
	if err != nil || got != filepath.Join(root, "a", "b", "c.txt") {
		t.Fatalf("memberTarget = %q, %v", got, err)
	}
	if fi, err := os.Stat(filepath.Join(root, "a", "b")); err != nil || !fi.IsDir() {
		t.Errorf("folders not made: %v", err)
	}
	os.Symlink(t.TempDir(), filepath.Join(root, "l"))
	if _, err := memberTarget(root, swarm.Entry{Path: "l/x"}); err == nil {
		t.Error("a linked folder was accepted")
	}
	os.Symlink(filepath.Join(t.TempDir(), "f"), filepath.Join(root, "lf"))
	if _, err := memberTarget(root, swarm.Entry{Path: "lf"}); err == nil {
		t.Error("a linked file was accepted")
	}
}
