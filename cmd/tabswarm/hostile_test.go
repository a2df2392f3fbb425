package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
)

// TestGetVerifiesTamperedResume plants a part file of other bytes beside a
// state file that marks every chunk held: get fetches the chunks again
// and saves the right file.
func TestGetVerifiesTamperedResume(t *testing.T) {
	url := startTracker(t)
	data, m := shareFile(t, url, 3<<20+17, nil)
	out := filepath.Join(t.TempDir(), "out.bin")
	writeRandom(t, out+".part", len(data), 99)
	all := swarm.NewBitfield(m.NumChunks())
	for i := range m.NumChunks() {
		all.Set(i)
	}
	raw, _ := json.Marshal(map[string]any{"manifest": m, "have": all.Bytes()})
	os.WriteFile(out+".part.json", raw, 0o644)
	if _, stderr, err := runCmd(t, "get", m.Digest.String(), "--tracker", url, "-o", out); err != nil {
		t.Fatalf("get: %v; stderr %s", err, stderr)
	}
	sameFile(t, out, data)
}

// TestGetRefusesLinkedPartFiles plants a symbolic link to another file at
// NAME.part, then NAME.part.json: get refuses, saying so, and the linked
// file is untouched. One at NAME.part.json.tmp (the temporary name of
// earlier versions) is never written through.
func TestGetRefusesLinkedPartFiles(t *testing.T) {
	url := startTracker(t)
	data, m := shareFile(t, url, 100<<10, nil)
	for _, suffix := range []string{".part", ".part.json", ".part.json.tmp"} {
		dir := t.TempDir()
		out := filepath.Join(dir, "out.bin")
		victim := filepath.Join(dir, "victim")
		os.WriteFile(victim, []byte("keep me"), 0o644)
		if err := os.Symlink(victim, out+suffix); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := runCmd(t, "get", m.Digest.String(), "--tracker", url, "-o", out)
		if suffix == ".part.json.tmp" {
			if err != nil {
				t.Fatalf("link at %s: %v; stderr %s", suffix, err, stderr)
			}
			sameFile(t, out, data)
		} else if err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), suffix) {
			t.Errorf("link at %s: err = %v, want a refusal naming the link", suffix, err)
		}
		if got, _ := os.ReadFile(victim); string(got) != "keep me" {
			t.Errorf("link at %s: the linked file now holds %d bytes", suffix, len(got))
		}
	}
}

// TestGetKeepsTargetCreatedDuringDownload creates the target while get
// runs: get fails with a clear error, the new file stays as it is, and
// the download is kept complete in NAME.part.
func TestGetKeepsTargetCreatedDuringDownload(t *testing.T) {
	url := startTracker(t)
	held := &gatedLibrary{gate: make(chan struct{}), hold: true, after: make(map[int]int)}
	data, m := shareFile(t, url, 2<<20, func(l swarm.Library) swarm.Library { held.Library = l; return held })
	out := filepath.Join(t.TempDir(), "out.bin")
	g := start(t, "get", m.Digest.String(), "--tracker", url, "-o", out)
	// The download has started once its state file exists.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(out + ".part.json"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the download never started; stderr %s", g.errOut.String())
		}
	}
	os.WriteFile(out, []byte("theirs"), 0o644)
	held.open()
	err := <-g.done
	g.done <- err
	if err == nil || !strings.Contains(err.Error(), "created while downloading") {
		t.Fatalf("get: %v, want it to refuse to replace the new file; stderr %s", err, g.errOut.String())
	}
	if got, _ := os.ReadFile(out); string(got) != "theirs" {
		t.Fatalf("the file created during the download was replaced (%d bytes)", len(got))
	}
	sameFile(t, out+".part", data)
}
