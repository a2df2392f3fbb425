package tracker

import (
	"context"
	"encoding/json"
	"testing"
	"testing/fstest"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// fuzzManifest is a valid two-chunk manifest known to every fuzz tracker.
var fuzzManifest = func() *swarm.Manifest {
	return swarm.NewManifest("f", "", swarm.MinChunkSize+1, []swarm.Hash{{1}, {2}})
}()

// FuzzHandleMessage feeds arbitrary frames to the tracker's message handling
// and checks the contract: no panic, every reply is a Message, a request
// with an ID gets exactly one reply with that ID, and a message answered
// with an error changes nothing.
func FuzzHandleMessage(f *testing.F) {
	raw, _ := json.Marshal(fuzzManifest)
	d := fuzzManifest.Digest.String()
	for _, seed := range []string{
		`{"type":"query","id":1,"digest":"` + d + `"}`,
		`{"type":"announce","id":2,"digest":"` + d + `","have":1}`,
		`{"type":"announce","id":3,"digest":"` + d + `","manifest":` + string(raw) + `,"complete":true}`,
		`{"type":"leave","id":4,"digest":"` + d + `"}`,
		`{"type":"signal","id":5,"to":"other","signal":{"kind":"offer","session":"s","sdp":"v=0"}}`,
		`{"type":"welcome","id":6}`,
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := New(Options{App: fstest.MapFS{}, MessageRate: 1e9, MessageBurst: 1e9})
		defer tr.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		other := newPeer(ctx, nil, tr.opts)
		other.id = "other"
		p := newPeer(ctx, nil, tr.opts)
		p.out = make(chan frame, 16)
		other.out = make(chan frame, 16)
		tr.reg.addPeer(p)
		tr.reg.addPeer(other)
		if _, _, e := tr.reg.announce(other, fuzzManifest.Digest, fuzzManifest, raw, 0, false); e != nil {
			t.Fatal(e)
		}

		before := tr.reg.snapshot()
		tr.handle(p, data)
		if err := context.Cause(p.ctx); err != nil {
			t.Fatalf("the peer was dropped: %v", err)
		}
		var replies []signaling.Message
		for len(p.out) > 0 {
			var m signaling.Message
			if err := json.Unmarshal((<-p.out).data, &m); err != nil {
				t.Fatalf("reply is not a message: %v", err)
			}
			replies = append(replies, m)
		}
		if len(replies) > 1 {
			t.Fatalf("%d replies, want at most 1: %+v", len(replies), replies)
		}
		if len(replies) == 1 && replies[0].Type == signaling.TypeError {
			if replies[0].Error == nil || replies[0].Error.Code == "" {
				t.Fatalf("untyped error %+v", replies[0])
			}
			if after := tr.reg.snapshot(); after != before {
				t.Fatalf("error %v, yet state changed:\n%s\nto\n%s", replies[0].Error, before, after)
			}
		}
		if m, err := decodeMessage(data); err == nil && m.ID != 0 {
			if len(replies) != 1 || replies[0].ID != m.ID {
				t.Fatalf("request with ID %d got %+v, want one reply with its ID", m.ID, replies)
			}
		}
	})
}
