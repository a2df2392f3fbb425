//go:build !js

package swarm_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
)

// TestRemoveCollectionKeepsFilesInUse: removing a collection removes only
// the files nothing else uses: not one also shared for itself, not one
// part of another collection the node holds.
func TestRemoveCollectionKeepsFilesInUse(t *testing.T) {
	url := startTracker(t)
	ctx := context.Background()
	lib := new(swarm.MemLibrary)
	ms := map[string]*swarm.Manifest{}
	for i, name := range []string{"alone", "shared", "only"} {
		ms[name] = seedBytes(t, lib, name, bytes.Repeat([]byte{byte(i + 1)}, 1000))
	}
	n := startNode(t, url, lib) // resumes the three, none held for itself
	if _, err := n.Add(ctx, ms["alone"]); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alone", "shared", "only"} {
		if _, err := n.AddMember(ctx, ms[name]); err != nil {
			t.Fatal(err)
		}
	}
	x := newCollection(t, "x", ms["alone"], ms["shared"], ms["only"])
	y := newCollection(t, "y", ms["shared"])
	for _, c := range []*swarm.Collection{x, y} {
		if err := n.AddCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	if err := n.RemoveCollection(ctx, x.Digest); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.Collection(x.Digest); ok {
		t.Error("collection x still held")
	}
	held := func(name string) bool {
		_, inNode := n.File(ms[name].Digest)
		stored, err := lib.Files(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inLib := slices.ContainsFunc(stored, func(m *swarm.Manifest) bool { return m.Digest == ms[name].Digest })
		if inNode != inLib {
			t.Errorf("%s: in the node %v, in the library %v", name, inNode, inLib)
		}
		return inNode
	}
	if !held("alone") {
		t.Error("removing x removed the file also shared alone")
	}
	if !held("shared") {
		t.Error("removing x removed the file collection y still uses")
	}
	if held("only") {
		t.Error("removing x kept the file only x used")
	}
	waitCollection(t, n, y.Digest, swarm.StateSeeding)

	if err := n.RemoveCollection(ctx, y.Digest); err != nil {
		t.Fatal(err)
	}
	if held("shared") {
		t.Error("removing y, its last user, kept the shared file")
	}
	if !held("alone") {
		t.Error("the file shared alone went with y")
	}
}

// TestRemovedFileBreaksCollection: removing one file of a collection the
// node announced stops the announcement (holders hold the whole set) and
// the collection says which file is gone.
func TestRemovedFileBreaksCollection(t *testing.T) {
	url := startTracker(t)
	ctx := context.Background()
	lib := new(swarm.MemLibrary)
	a := seedBytes(t, lib, "a.txt", []byte("hello"))
	b := seedBytes(t, lib, "b.txt", []byte("world"))
	n := startNode(t, url, lib)
	for _, m := range []*swarm.Manifest{a, b} {
		if _, err := n.AddMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	c := newCollection(t, "set", a, b)
	if err := n.AddCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if !holds(t, url, c.Digest, n.PeerID()) {
		t.Fatal("the collection was never announced")
	}
	if err := n.Remove(ctx, b.Digest); err != nil {
		t.Fatal(err)
	}
	s := waitCollection(t, n, c.Digest, swarm.StateError)
	if !strings.Contains(s.Error, "b.txt") {
		t.Errorf("collection error %q does not name the removed file", s.Error)
	}
	if stillHolds(t, url, c.Digest, n.PeerID()) {
		t.Error("the tracker still lists the node as holding the whole collection")
	}
	if _, ok := n.File(a.Digest); !ok {
		t.Error("the other file went too")
	}
}

func newCollection(t *testing.T, name string, ms ...*swarm.Manifest) *swarm.Collection {
	t.Helper()
	var entries []swarm.Entry
	for _, m := range ms {
		entries = append(entries, swarm.Entry{Path: m.Name, Digest: m.Digest, Size: m.Size})
	}
	c, err := swarm.NewCollection(name, entries)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitCollection waits up to 10 seconds for collection d to reach state.
func waitCollection(t *testing.T, n *swarm.Node, d swarm.Hash, state swarm.State) swarm.CollectionStats {
	t.Helper()
	var s swarm.CollectionStats
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s, _ = n.Collection(d); s.State == state {
			return s
		}
	}
	t.Fatalf("collection %+v, want %s", s, state)
	return s
}

// stillHolds reports whether the tracker lists peer as a holder of d after
// giving it up to 5 seconds to drop it.
func stillHolds(t *testing.T, wsURL string, d swarm.Hash, peer string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !listed(t, wsURL, d, peer) {
			return false
		}
	}
	return true
}
