package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
)

// testManifest is a 3-chunk file of 256 KiB chunks: two full chunks and 5
// bytes. Only the figures matter here, not whether ChunkSize would pick 256 KiB.
var testManifest = &swarm.Manifest{
	Size:      2*256<<10 + 5,
	ChunkSize: 256 << 10,
	Chunks:    make([]swarm.Hash, 3),
}

func TestStatusLine(t *testing.T) {
	m := testManifest
	s := swarm.FileStats{
		State:    swarm.StateDownloading,
		Map:      []int{2, 0, 1},
		DownRate: 1 << 20,
		Peers:    []swarm.PeerStats{{ID: "a", Connected: true}, {ID: "b"}},
	}
	got := statusLine(m, s)
	want := " 50.0%  256.0 KiB / 512.0 KiB  1.0 MiB/s  1 peer  ETA 0:00"
	if got != want {
		t.Errorf("statusLine =\n%q, want\n%q", got, want)
	}
	s.State = swarm.StateStalled
	if got := statusLine(m, s); !strings.Contains(got, "stalled") {
		t.Errorf("stalled: %q", got)
	}
	s.State, s.Map = swarm.StateSeeding, []int{1, 1, 1}
	if got := statusLine(m, s); !strings.HasPrefix(got, "100.0%") || !strings.HasSuffix(got, "done") {
		t.Errorf("done: %q", got)
	}
	empty := &swarm.Manifest{}
	if got := statusLine(empty, swarm.FileStats{State: swarm.StateSeeding}); !strings.HasPrefix(got, "100.0%  0 B / 0 B") {
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
	p.update(t0, m, s)
	p.update(t0.Add(time.Second), m, s)                 // too soon
	p.update(t0.Add(plainEvery), m, s)                  // due
	s.State = swarm.StateStalled                        //
	p.update(t0.Add(plainEvery+time.Millisecond), m, s) // a change shows at once
	p.end()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "b.bin:   0.0%") || !strings.Contains(lines[2], "stalled") {
		t.Errorf("plain output:\n%s", buf.String())
	}
}

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true}
	m := testManifest
	p.update(time.Now(), m, swarm.FileStats{State: swarm.StateDownloading, Map: []int{2, 0, 0}, Peers: []swarm.PeerStats{{Connected: true}, {Connected: true}}})
	p.update(time.Now(), m, swarm.FileStats{State: swarm.StateSeeding, Map: []int{2, 2, 2}})
	p.end()
	out := buf.String()
	if !strings.HasPrefix(out, "\r[#####.......]   49.9%") || !strings.Contains(out, "\r[############]  100.0%") {
		t.Errorf("terminal output %q", out)
	}
	if strings.Count(out, "\r") != 2 || !strings.HasSuffix(out, "\n") || !strings.Contains(out, "2 peers") {
		t.Errorf("terminal output %q", out)
	}
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
	if got := bar(0.5); got != "[######......]" {
		t.Errorf("bar(0.5) = %q", got)
	}
}
