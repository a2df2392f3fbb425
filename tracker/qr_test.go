package tracker

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tabswarm/signaling"
)

// TestQR checks /qr.svg: a QR code with its finder patterns in place, and
// a clear 400 for a missing or too long text. The e2e test decodes one.
func TestQR(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{Token: "secret"}) // open even so
	link := "http://192.0.2.1:8080/#" + strings.Repeat("ab", 32)
	status, h, body := httpGet(t, s.base+"/qr.svg?text="+url.QueryEscape(link), nil)
	if status != http.StatusOK || h.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("qr.svg: %d %s %s", status, h.Get("Content-Type"), body)
	}
	var n int
	if _, err := fmt.Sscanf(string(body), `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d`, &n); err != nil {
		t.Fatalf("no viewBox in %.120s: %v", body, err)
	}
	black := make(map[[2]int]bool)
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`).FindAllStringSubmatch(string(body), -1) {
		var x, y int
		fmt.Sscan(m[1], &x)
		fmt.Sscan(m[2], &y)
		black[[2]int{x, y}] = true
	}
	// A 4-module quiet zone, then the top-left finder: a dark 7x7 ring
	// around a light ring around a dark 3x3 centre.
	const q = 4
	for y := 0; y < 7; y++ {
		for x := 0; x < 7; x++ {
			ring := max(abs(x-3), abs(y-3))
			if want := ring != 2; black[[2]int{q + x, q + y}] != want {
				t.Fatalf("module (%d,%d) of the finder pattern is black=%v, want %v", x, y, !want, want)
			}
		}
	}
	if black[[2]int{0, 0}] || n < 21+2*q {
		t.Errorf("%d modules with quiet zone black=%v", n, black[[2]int{0, 0}])
	}
	for _, c := range []struct {
		query string
		code  signaling.ErrorCode
	}{
		{"", signaling.CodeBadMessage},
		{"?text=", signaling.CodeBadMessage},
		{"?text=" + strings.Repeat("x", MaxQRText+1), signaling.CodeTooLarge},
	} {
		status, _, body := httpGet(t, s.base+"/qr.svg"+c.query, nil)
		var e signaling.Error
		if status != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Code != c.code {
			t.Errorf("qr.svg%.20s: %d %s, want 400 %s", c.query, status, body, c.code)
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestConfigURLs checks that /api/config passes on Options.URLs, and an
// empty list when there are none.
func TestConfigURLs(t *testing.T) {
	for _, urls := range [][]string{nil, {"http://192.0.2.1:8080", "http://localhost:8080"}} {
		s := startServer(t, "127.0.0.1:0", Options{URLs: urls})
		_, _, body := httpGet(t, s.base+"/api/config", nil)
		var c configBody
		if err := json.Unmarshal(body, &c); err != nil || c.URLs == nil || strings.Join(c.URLs, " ") != strings.Join(urls, " ") {
			t.Errorf("config %s, want urls %q", body, urls)
		}
	}
}
