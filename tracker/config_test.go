package tracker

import (
	"slices"
	"strings"
	"testing"
)

func TestParseICEServer(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ICEServer
	}{
		{"stun:stun.example.org:3478", ICEServer{URLs: []string{"stun:stun.example.org:3478"}}},
		{"STUNS:stun.example.org", ICEServer{URLs: []string{"STUNS:stun.example.org"}}},
		{"alice:s3cret@turn:turn.example.org:3478?transport=tcp", ICEServer{URLs: []string{"turn:turn.example.org:3478?transport=tcp"}, Username: "alice", Credential: "s3cret"}},
		{"bob:p@ss:w0rd@turns:turn.example.org", ICEServer{URLs: []string{"turns:turn.example.org"}, Username: "bob", Credential: "p@ss:w0rd"}},
	} {
		got, err := ParseICEServer(c.in)
		if err != nil || !slices.Equal(got.URLs, c.want.URLs) || got.Username != c.want.Username || got.Credential != c.want.Credential {
			t.Errorf("ParseICEServer(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{
		"", "stun:", "stun:?x", "http://stun.example.org", "stun.example.org:3478",
		"turn:turn.example.org", // TURN without credentials
		":pw@turn:host", "user@turn:host", "user:@turn:host",
		"stun:host with space", "stun:host\x00", strings.Repeat("a", 3000),
	} {
		if got, err := ParseICEServer(in); err == nil {
			t.Errorf("ParseICEServer(%q) = %+v, want an error", in, got)
		}
	}
	// A credential never shows in an error.
	if _, err := ParseICEServer("u:topsecret@ftp:x"); err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("error %v", err)
	}
}

func TestCheckOriginPattern(t *testing.T) {
	for _, p := range []string{"app.lan", "*.lan:8080", "https://x.example"} {
		if err := CheckOriginPattern(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", "*", "[bad"} {
		if CheckOriginPattern(p) == nil {
			t.Errorf("%q: no error", p)
		}
	}
}
