package tracker

import (
	"encoding/json"
	"strings"
	"testing"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// TestCollectionAnnounce: a collection is announced and queried like a
// file, with its files as the parts Have counts; a bad one gets
// bad_manifest and changes nothing.
func TestCollectionAnnounce(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a, b := s.dial(t), s.dial(t)
	f1, f2 := newFile(t, 5<<20), newFile(t, 0)
	c, err := swarm.NewCollection("set", []swarm.Entry{
		{Path: "dir/one.bin", Digest: f1.m.Digest, Size: f1.m.Size},
		{Path: "empty", Digest: f2.m.Digest, Size: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	d := c.Digest.String()

	// A collection whose digest matches its entries but whose path climbs
	// out of the target folder.
	evil := *c
	evil.Files = []swarm.Entry{{Path: "../x", Digest: f1.m.Digest, Size: f1.m.Size}}
	evil.Size = f1.m.Size
	evil.Digest = swarm.CollectionDigest(evil.Files)
	evilRaw, _ := json.Marshal(&evil)
	newer := strings.Replace(string(raw), `"version":2`, `"version":9`, 1)
	before := s.reg.snapshot()
	for i, frame := range []string{
		announceFrame(1, evil.Digest.String(), evilRaw, 0, true),
		announceFrame(2, d, []byte(newer), 0, true),
		announceFrame(3, d, raw, 3, false), // two files, not three
	} {
		a.sendRaw([]byte(frame))
		r := a.recv()
		if r.Type != signaling.TypeError || r.Error == nil || r.ID != uint64(i+1) {
			t.Fatalf("frame %d: reply %+v, want an error", i+1, r)
		}
		if after := s.reg.snapshot(); after != before {
			t.Fatalf("frame %d changed the table:\n%s", i+1, after)
		}
	}

	a.mustOK(signaling.Message{Type: signaling.TypeAnnounce, ID: 4, Digest: d, Manifest: raw, Complete: true})
	r := b.request(signaling.Message{Type: signaling.TypeQuery, ID: 1, Digest: d})
	if r.Type != signaling.TypePeers || len(r.Peers) != 1 || r.Peers[0].ID != a.id || r.Peers[0].Have != 2 {
		t.Fatalf("query: %+v", r)
	}
	m, got, err := swarm.ParseP2T(r.Manifest, c.Digest)
	if err != nil || m != nil || got.Name != "set" || len(got.Files) != 2 {
		t.Fatalf("the query's manifest: %v %+v %v", m, got, err)
	}
	if status, fi := s.apiFile(t, d); status != 200 || len(fi.Peers) != 1 {
		t.Errorf("/api/files: %d %+v", status, fi)
	}
}
