package tracker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
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
		`{"type":"signal","id":5,"to":"other","digest":"` + d + `","signal":{"kind":"offer","session":"s","sdp":"v=0"}}`,
		`{"type":"signal","id":7,"to":"other","digest":"` + d + `","signal":{"kind":"answer","session":"s","sdp":"v=0"}}`,
		`{"type":"signal","id":8,"to":"other","digest":"` + d + `","signal":{"kind":"answer","session":"t"}}`,
		`{"type":"signal","id":9,"to":"other","digest":"` + d + `","signal":{"kind":"close","session":"s"}}`,
		`{"type":"announce","id":10,"digest":"` + d + `","have":1,"uploaded":100,"downloaded":-1}`,
		`{"type":"welcome","id":6}`,
		`not json`,
		// An SDP one byte over the cap.
		`{"type":"signal","id":11,"to":"other","digest":"` + d + `","signal":{"kind":"offer","session":"u","sdp":"` + strings.Repeat("x", signaling.MaxSDPBytes+1) + `"}}`,
	} {
		f.Add([]byte(seed))
	}
	// A manifest past the largest file: 65,590 chunks, consistent.
	const n = swarm.MaxChunks + 54
	big := swarm.NewManifest("big", "", n*swarm.MaxChunkSize, make([]swarm.Hash, n))
	f.Add([]byte(`{"type":"announce","id":12,"digest":"` + big.Digest.String() + `","manifest":` + string(mustMarshal(big)) + `,"complete":true}`))
	// One Tracker, a fresh table per input: New is too slow to run per
	// input.
	tr := New(Options{App: fstest.MapFS{}, MessageRate: 1e9, MessageBurst: 1e9})
	defer tr.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		tr.reg = newRegistry(tr.opts, tr.bus, false)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		other := newPeer(ctx, nil, nil, &tr.opts, tr.node)
		other.id = "other"
		p := newPeer(ctx, nil, nil, &tr.opts, tr.node)
		// No writer runs (there is no connection): what is sent stays
		// queued.
		p.writing, other.writing = true, true
		tr.reg.addPeer(p)
		tr.reg.addPeer(other)
		if _, _, _, e := tr.reg.announce(other, fuzzManifest.Digest, fileContent(fuzzManifest), 0, false, 0, 0); e != nil {
			t.Fatal(e)
		}
		// p has queried the file, and other has offered it session "s".
		if _, _, _, e := tr.reg.query(fuzzManifest.Digest, p, 10); e != nil {
			t.Fatal(e)
		}
		if _, e := tr.reg.relay(other, p.id, fuzzManifest.Digest, &signaling.Signal{Kind: signaling.SignalOffer, Session: "s"}, 0); e != nil {
			t.Fatal(e)
		}

		before := tr.reg.snapshot()
		tr.handle(p, data)
		if err := context.Cause(p.ctx); err != nil {
			t.Fatalf("the peer was dropped: %v", err)
		}
		var replies []signaling.Message
		for _, f := range p.queue {
			var m signaling.Message
			if err := json.Unmarshal(f.data, &m); err != nil {
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

// FuzzOriginAllowed checks the Origin check never panics, always allows the
// tracker's own host and no Origin, and allows nothing else without a
// pattern.
func FuzzOriginAllowed(f *testing.F) {
	for _, seed := range [][2]string{
		{"http://tracker.lan:8080", "tracker.lan:8080"},
		{"https://TRACKER.lan", "tracker.lan"},
		{"http://evil.example", "tracker.lan"},
		{"null", "tracker.lan"},
		{"http://[::1]:80", "[::1]:80"},
		{"http://a%zz", "x"},
		{"", "x"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r.Host = host
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		err := originAllowed(r, nil)
		if origin == "" && err != nil {
			t.Fatalf("no Origin refused: %v", err)
		}
		u, perr := url.Parse(origin)
		own := perr == nil && u.Host != "" && strings.EqualFold(u.Host, host)
		if origin != "" && (err == nil) != own {
			t.Fatalf("origin %q host %q: err %v, own host %t", origin, host, err, own)
		}
		originAllowed(r, []string{"*.lan", "https://*", "[", origin}) // must not panic
	})
}

// FuzzRequestToken checks token extraction and comparison: no panic, and a
// request is authorized exactly when it carries the token.
func FuzzRequestToken(f *testing.F) {
	f.Add("Bearer s3cret", "", "s3cret")
	f.Add("", "token=s3cret", "s3cret")
	f.Add("bearer  s3cret ", "", "s3cret")
	f.Add("Basic s3cret", "token=s3cret", "s3cret")
	f.Add("", "token=%zz&token=x", "x")
	f.Add("Bearer", "", "")
	f.Fuzz(func(t *testing.T, auth, query, token string) {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r.URL.RawQuery = query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		tr := &Tracker{opts: Options{Token: token}}
		got := requestToken(r)
		if want := token == "" || (got != "" && got == token); tr.authorized(r) != want {
			t.Fatalf("auth %q query %q token %q: authorized %t, carried %q", auth, query, token, !want, got)
		}
	})
}

// FuzzParseICEServer checks the --ice-server parser: no panic, and what it
// accepts has one URL with an ICE scheme and credentials for TURN.
func FuzzParseICEServer(f *testing.F) {
	for _, seed := range []string{
		"stun:stun.example.org:3478", "alice:pw@turn:turn.example.org?transport=tcp",
		"a:b@c@turns:x", "turn:x", "@stun:x", "stun:", "http://x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := ParseICEServer(s)
		if err != nil {
			return
		}
		if len(srv.URLs) != 1 || !slices.ContainsFunc(iceSchemes, func(sc string) bool { return strings.HasPrefix(strings.ToLower(srv.URLs[0]), sc) }) {
			t.Fatalf("%q parsed to %+v", s, srv)
		}
		if strings.HasPrefix(strings.ToLower(srv.URLs[0]), "turn") && (srv.Username == "" || srv.Credential == "") {
			t.Fatalf("%q: TURN without credentials: %+v", s, srv)
		}
	})
}
