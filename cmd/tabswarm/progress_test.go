package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"

	"tabswarm/swarm"
)

// testManifest is a 3-chunk file of 256 KiB chunks: two full chunks and 5
// bytes. Only the figures matter here, not whether ChunkSize would pick 256 KiB.
var testManifest = &swarm.Manifest{
	Size:      2*256<<10 + 5,
	ChunkSize: 256 << 10,
	Chunks:    make([]swarm.Hash, 3),
}

func TestStatusText(t *testing.T) {
	m := testManifest
	s := swarm.FileStats{
		State:    swarm.StateDownloading,
		Map:      []int{2, 0, 1},
		DownRate: 1 << 20,
		Peers:    []swarm.PeerStats{{ID: "a", Connected: true}, {ID: "b"}},
	}
	st := fileStatus(m, s)
	got := percent(st) + "  " + statusText(st)
	want := " 50.0%  256.0 KiB / 512.0 KiB  1.0 MiB/s  1 peer  ETA 0:00"
	if got != want {
		t.Errorf("status =\n%q, want\n%q", got, want)
	}
	s.State = swarm.StateStalled
	if got := statusText(fileStatus(m, s)); !strings.Contains(got, "stalled") {
		t.Errorf("stalled: %q", got)
	}
	s.State, s.Map = swarm.StateSeeding, []int{1, 1, 1}
	if st := fileStatus(m, s); percent(st) != "100.0%" || !strings.HasSuffix(statusText(st), "done") {
		t.Errorf("done: %q %q", percent(st), statusText(st))
	}
	empty := fileStatus(&swarm.Manifest{}, swarm.FileStats{State: swarm.StateSeeding})
	if got := percent(empty) + "  " + statusText(empty); !strings.HasPrefix(got, "100.0%  0 B / 0 B") {
		t.Errorf("empty file: %q", got)
	}
}

func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "b.bin")
	if p.tty {
		t.Fatal("a buffer is not a terminal")
	}
	m := &swarm.Manifest{Name: "a/b.bin", Size: 10, ChunkSize: swarm.MinChunkSize, Chunks: make([]swarm.Hash, 1)}
	t0 := time.Unix(1000, 0)
	s := swarm.FileStats{State: swarm.StateDownloading, Map: []int{0}}
	p.update(t0, fileStatus(m, s))
	p.update(t0.Add(time.Second), fileStatus(m, s))                 // too soon
	p.update(t0.Add(plainEvery), fileStatus(m, s))                  // due
	s.State = swarm.StateStalled                                    //
	p.update(t0.Add(plainEvery+time.Millisecond), fileStatus(m, s)) // a change shows at once
	p.end()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "b.bin:   0.0%") || !strings.Contains(lines[2], "stalled") {
		t.Errorf("plain output:\n%s", buf.String())
	}
}

// drawn is what a terminal shows after out: the text after the last
// carriage return of each line.
func drawn(out string) []string {
	var shown []string
	for _, line := range strings.Split(out, "\n") {
		parts := strings.Split(strings.TrimRight(line, "\r"), "\r")
		shown = append(shown, parts[len(parts)-1])
	}
	return shown
}

// barCells matches the library's bar and captures its cells.
var barCells = regexp.MustCompile(`\|([^|]*)\|`)

// checkDrawn checks that every line drawn in out fits width cells and
// that some line shows want.
func checkDrawn(t *testing.T, out string, width int, want string) {
	t.Helper()
	found := false
	for _, part := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if w := uniseg.StringWidth(part); w > width {
			t.Errorf("a %d-cell line on a %d-cell terminal: %q", w, width, part)
		}
		if strings.Contains(part, want) {
			found = true
			if bar := barCells.FindStringSubmatch(part); bar == nil || uniseg.StringWidth(bar[1]) < minBar {
				t.Errorf("no bar of at least %d cells in %q", minBar, part)
			}
		}
	}
	if !found {
		t.Errorf("no line shows %q in %q", want, out)
	}
}

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true} // the library and termWidth assume 80 cells for a non-file
	m := testManifest
	p.update(time.Now(), fileStatus(m, swarm.FileStats{State: swarm.StateDownloading, Map: []int{2, 0, 0}, Peers: []swarm.PeerStats{{Connected: true}, {Connected: true}}}))
	mid := buf.String()
	p.update(time.Now(), fileStatus(m, swarm.FileStats{State: swarm.StateSeeding, Map: []int{2, 2, 2}}))
	p.end()
	out := buf.String()
	checkDrawn(t, mid, defaultWidth, " 49% |")
	checkDrawn(t, mid, defaultWidth, "256.0 KiB / 512.0 KiB  0 B/s  2 peers")
	checkDrawn(t, out, defaultWidth, "100% |")
	if shown := drawn(out); len(shown) != 2 || !strings.Contains(shown[0], "100%") || !strings.HasSuffix(strings.TrimSpace(shown[0]), "done") || shown[1] != "" {
		t.Errorf("the finished line is not left on screen with a newline: %q", shown)
	}
	// A stalled download's long text is cut, never wrapped, and the bar stays.
	buf.Reset()
	p.update(time.Now(), status{done: 1 << 30, size: 4 << 30, peers: 3, state: swarm.StateStalled})
	checkDrawn(t, buf.String(), defaultWidth, "1.0 GiB / 4.0 GiB")
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 40: "5.0 TiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0:00", 5 * time.Second: "0:05", 61*time.Minute + 2*time.Second: "1:01:02", 90 * time.Second: "1:30"} {
		if got := formatETA(d); got != want {
			t.Errorf("formatETA(%v) = %q, want %q", d, got, want)
		}
	}
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"abcdef", 6, "abcdef"}, {"abcdef", 5, "abcd…"}, {"abcdef", 0, ""}, {"日本語", 4, "日…"}} {
		if got := truncate(c.s, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// TestProgressChecking: a resumed download's check of the chunks already
// there shows as plain lines (first, at most every plainEvery, last) and
// as a bar on a terminal, left on screen when done.
func TestProgressChecking(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "big.iso")
	t0 := time.Unix(1000, 0)
	for i := range 101 {
		p.checking(t0.Add(time.Duration(i)*100*time.Millisecond), i, 100)
	}
	p.end()
	want := "big.iso: checking 0 of 100 chunks already here\n" +
		"big.iso: checking 30 of 100 chunks already here\n" +
		"big.iso: checking 60 of 100 chunks already here\n" +
		"big.iso: checking 90 of 100 chunks already here\n" +
		"big.iso: checking 100 of 100 chunks already here\n"
	if buf.String() != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	p = &progress{w: &buf, tty: true}
	p.checking(time.Now(), 0, 40)
	p.checking(time.Now(), 10, 40)
	mid := buf.String()
	p.checking(time.Now(), 40, 40)
	checkDrawn(t, mid, defaultWidth, " 25% |")
	checkDrawn(t, mid, defaultWidth, "checking 10 of 40 chunks already here")
	if shown := drawn(buf.String()); len(shown) != 2 || !strings.Contains(shown[0], "checking 40 of 40 chunks already here") || shown[1] != "" {
		t.Errorf("the finished check is not left on screen with a newline: %q", shown)
	}
}
