package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFloorPage checks the floor page the benchmark measures (issue 13):
// a file of five chunks, the last one short, read back from IndexedDB in
// one tab, arrives verified and stored as one record per chunk in the
// other; and a chunk whose hash does not match what the receiver expects
// is refused and not stored, nor is anything after it.
func TestFloorPage(t *testing.T) {
	e := newEnv(t)
	page := serveCeiling(t)
	dir := t.TempDir()
	f := makeFile(t, dir, "floor.bin", 4<<18+1000)
	tx := e.newBlankPerson(t, "floor-tx")
	rx := e.newBlankPerson(t, "floor-rx")
	if err := connectPages(tx.ctx, rx.ctx, page); err != nil {
		t.Fatal(err)
	}
	floorStore(t, tx, f)
	r, err := floorRun(tx, rx, f)
	if err != nil {
		t.Fatalf("floor transfer: %v\n%s%s", err, tx.dump(), rx.dump())
	}
	if r.MS <= 0 || r.FirstMS <= 0 || r.FirstMS > r.MS {
		t.Errorf("floor times: first chunk stored after %v ms, all after %v ms", r.FirstMS, r.MS)
	}

	// The same stored file again, but the receiver expects the hashes of
	// a file that differs in chunk 2.
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	data[2<<18+7] ^= 1
	other := f
	other.path = filepath.Join(dir, "floor-other.bin")
	if err := os.WriteFile(other.path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pageCall[bool](rx.ctx, `floor.forget()`); err != nil {
		t.Fatal(err)
	}
	_, err = floorRun(tx, rx, other)
	if err == nil || !strings.Contains(err.Error(), "chunk 2 fails its hash") {
		t.Fatalf("floor transfer of a chunk that fails its hash: %v, want chunk 2 refused", err)
	}
	stored, err := pageCall[[]int](rx.ctx, `floor.stored()`)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range stored {
		if i >= 2 {
			t.Errorf("chunks stored after chunk 2 failed its hash: %v, want none from 2 on", stored)
			break
		}
	}
}
