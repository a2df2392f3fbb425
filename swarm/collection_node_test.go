//go:build !js

package swarm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
)

// TestCollectionNodes: a node seeds three files (one empty) as a
// collection; another resolves the collection's digest, gets every file,
// and then holds the collection itself.
func TestCollectionNodes(t *testing.T) {
	url := startTracker(t)
	ctx := context.Background()
	seedLib := new(swarm.MemLibrary)
	data := map[string][]byte{"a.txt": []byte("hello"), "dir/b.bin": bytes.Repeat([]byte{7}, 300<<10), "empty": nil}
	var entries []swarm.Entry
	ms := map[string]*swarm.Manifest{}
	for p, b := range data {
		m := seedBytes(t, seedLib, p, b)
		ms[p] = m
		entries = append(entries, swarm.Entry{Path: p, Digest: m.Digest, Size: m.Size})
	}
	c, err := swarm.NewCollection("set", entries)
	if err != nil {
		t.Fatal(err)
	}
	seeder := startNode(t, url, seedLib)
	for _, m := range ms {
		if _, err := seeder.Add(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := seeder.AddCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	waitAnnounced(t, url, c.Digest)

	getLib := new(swarm.MemLibrary)
	getter := startNode(t, url, getLib)
	if _, err := getter.Get(ctx, c.Digest); !errors.Is(err, swarm.ErrCollection) {
		t.Errorf("Get(collection) = %v, want ErrCollection", err)
	}
	m, got, err := getter.Resolve(ctx, c.Digest)
	if err != nil || m != nil || got.Digest != c.Digest {
		t.Fatalf("Resolve = %v, %v, %v", m, got, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, _ := getter.Collection(c.Digest)
		if s.State == swarm.StateSeeding {
			break
		}
		if s.State == swarm.StateError || time.Now().After(deadline) {
			t.Fatalf("collection: %+v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for p, want := range data {
		if b := readAll(t, getLib, ms[p]); !bytes.Equal(b, want) {
			t.Errorf("%s: %d bytes, want %d", p, len(b), len(want))
		}
	}
	if st := getter.Stats(); len(st.Collections) != 1 || len(st.Collections[0].Files) != 3 {
		t.Errorf("stats collections: %+v", st.Collections)
	}
	// The getter is now a holder of the whole set.
	if !holds(t, url, c.Digest, getter.PeerID()) {
		t.Error("the getter never announced the collection")
	}
}

// holds polls the tracker's HTTP API until peer is listed as a holder of d,
// for up to 5 seconds.
func holds(t *testing.T, wsURL string, d swarm.Hash, peer string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if listed(t, wsURL, d, peer) {
			return true
		}
	}
	return false
}

// listed reports whether the tracker's HTTP API lists peer as a holder of d.
func listed(t *testing.T, wsURL string, d swarm.Hash, peer string) bool {
	u := "http" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws"), "/ws") + "/api/files/" + d.String()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	var fi struct{ Peers []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&fi)
	resp.Body.Close()
	for _, p := range fi.Peers {
		if p.ID == peer {
			return true
		}
	}
	return false
}

// TestCollectionStalled: a collection (from a .p2t) with a file no peer
// holds says so instead of waiting silently.
func TestCollectionStalled(t *testing.T) {
	url := startTracker(t)
	c, err := swarm.NewCollection("lost", []swarm.Entry{{Path: "gone.bin", Digest: swarm.Hash{9}, Size: 10}})
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, url, new(swarm.MemLibrary))
	if err := n.AddCollection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var s swarm.CollectionStats
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s, _ = n.Collection(c.Digest); s.State == swarm.StateStalled {
			break
		}
	}
	if s.State != swarm.StateStalled || !strings.Contains(s.Error, "gone.bin") {
		t.Errorf("collection %+v, want stalled naming gone.bin", s)
	}
}
