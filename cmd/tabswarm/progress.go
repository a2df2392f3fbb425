package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"tabswarm/swarm"
)

// plainEvery spaces out the progress lines written when the output is not a
// terminal.
const plainEvery = 3 * time.Second

// barWidth is the number of cells in the terminal progress bar.
const barWidth = 12

// progress shows a download's progress: on a terminal one line redrawn in
// place; otherwise a plain line every plainEvery, and whenever the state
// changes.
type progress struct {
	w     io.Writer
	name  string // prefixes plain lines
	tty   bool
	last  time.Time   // of the last plain line
	state swarm.State // of the last plain line
	width int         // runes of the line on screen, to blank what a shorter one leaves
}

func newProgress(w io.Writer, name string) *progress {
	return &progress{w: w, name: name, tty: isTerminal(w)}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update shows s, a snapshot of m's download taken at now.
func (p *progress) update(now time.Time, m *swarm.Manifest, s swarm.FileStats) {
	line := statusLine(m, s)
	if p.tty {
		line = bar(fraction(m, s)) + "  " + line
		n := utf8.RuneCountInString(line)
		fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", max(0, p.width-n)))
		p.width = n
		return
	}
	if p.state == s.State && now.Sub(p.last) < plainEvery {
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.name, line)
	p.last, p.state = now, s.State
}

// end finishes the terminal line, if one is drawn.
func (p *progress) end() {
	if p.tty && p.width > 0 {
		fmt.Fprintln(p.w)
		p.width = 0
	}
}

// statusLine is the percentage (rounded down, so 100% means done), bytes, speed, peers and ETA of s.
func statusLine(m *swarm.Manifest, s swarm.FileStats) string {
	peers := 0
	for _, ps := range s.Peers {
		if ps.Connected {
			peers++
		}
	}
	noun := "peers"
	if peers == 1 {
		noun = "peer"
	}
	var tail string
	switch {
	case s.State == swarm.StateSeeding:
		tail = "done"
	case s.State == swarm.StateStalled:
		tail = "stalled: waiting for a peer with the missing chunks"
	case s.State == swarm.StateError:
		tail = "failed"
	case s.DownRate >= 1:
		left := float64(m.Size-doneBytes(m, s)) / s.DownRate
		tail = "ETA " + formatETA(time.Duration(left*float64(time.Second)))
	default:
		tail = "ETA --"
	}
	return fmt.Sprintf("%5.1f%%  %s / %s  %s/s  %d %s  %s",
		math.Floor(1000*fraction(m, s))/10, formatBytes(doneBytes(m, s)), formatBytes(m.Size),
		formatBytes(int64(s.DownRate)), peers, noun, tail)
}

// doneBytes is the size of the chunks s holds.
func doneBytes(m *swarm.Manifest, s swarm.FileStats) int64 {
	var n int64
	for i, src := range s.Map {
		if src != 0 && i < m.NumChunks() {
			n += int64(m.ChunkLen(i))
		}
	}
	return n
}

// fraction is how much of m s holds, from 0 to 1; an empty file is whole
// once complete.
func fraction(m *swarm.Manifest, s swarm.FileStats) float64 {
	if m.Size == 0 {
		if s.State == swarm.StateSeeding {
			return 1
		}
		return 0
	}
	return float64(doneBytes(m, s)) / float64(m.Size)
}

// bar draws f (0 to 1) as [####........].
func bar(f float64) string {
	n := max(0, min(barWidth, int(f*barWidth)))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", barWidth-n) + "]"
}

// formatBytes writes n in B, KiB, MiB, GiB or TiB, with one decimal above
// bytes.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	unit := "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// formatETA writes d as m:ss, or h:mm:ss from an hour up.
func formatETA(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	h, m, s := secs/3600, secs/60%60, secs%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
