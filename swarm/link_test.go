package swarm_test

import (
	"errors"
	"strings"
	"testing"

	"tabswarm/swarm"
)

func TestParseLink(t *testing.T) {
	d := strings.Repeat("ab", 32)
	for _, c := range []struct{ in, origin string }{
		{d, ""},
		{" " + strings.ToUpper(d) + "\n", ""},
		{"http://192.168.1.5:8080/#" + d, "http://192.168.1.5:8080"},
		{"http://192.168.1.5:8080#" + d, "http://192.168.1.5:8080"},
		{"https://tabswarm.example/#" + strings.ToUpper(d), "https://tabswarm.example"},
		{"http://h:1/?d=" + d, "http://h:1"},
		{"http://h:1/?x=1&d=" + d + "#top", "http://h:1"},
		{"http://h:1/api/files/" + d + ".p2t", "http://h:1"},
		{"http://[::1]:8080/" + d + ".p2t", "http://[::1]:8080"},
		{"  http://h:1/#" + d + "  ", "http://h:1"},
	} {
		got, err := swarm.ParseLink(c.in)
		if err != nil || got.Digest.String() != d || got.Origin != c.origin {
			t.Errorf("ParseLink(%q) = %+v, %v; want %s at %q", c.in, got, err, d, c.origin)
		}
	}
	for _, in := range []string{
		"", "abc", d[:63], d + "a", strings.Repeat("g", 64),
		"http://h/#xyz", "http://h/?d=123", "http://h/x.p2t", "http:///#" + d, "report.p2t",
		"http://h/#" + d[:63],
	} {
		if _, err := swarm.ParseLink(in); !errors.Is(err, swarm.ErrBadDigest) {
			t.Errorf("ParseLink(%q): err = %v, want ErrBadDigest", in, err)
		}
	}
}

// TestShareLinkRoundTrip: every link ShareLink makes reads back.
func TestShareLinkRoundTrip(t *testing.T) {
	d := swarm.Hash{1, 2, 3}
	for _, origin := range []string{"http://10.0.0.2:8080", "http://10.0.0.2:8080/", "https://[fe80::1]:443"} {
		link := swarm.ShareLink(origin, d)
		got, err := swarm.ParseLink(link)
		if err != nil || got.Digest != d || got.Origin != strings.TrimRight(origin, "/") || strings.Contains(link, "//#") {
			t.Errorf("ShareLink(%q) = %q, read back as %+v, %v", origin, link, got, err)
		}
	}
}
