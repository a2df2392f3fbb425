package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/rivo/uniseg"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"tabswarm/swarm"
)

// plainEvery spaces out the progress lines written when the output is not a
// terminal.
const plainEvery = 3 * time.Second

// defaultWidth is the width assumed for a terminal whose size is unknown
// (the progress library assumes the same).
const defaultWidth = 80

// minBar is the fewest cells the bar keeps; the status text is cut short
// before the bar shrinks below it.
const minBar = 10

// barChrome is what the progress library draws around the bar and the
// status text: "100% |", "| ", a space before the text and one after it,
// plus the column it leaves free at the end of the line.
const barChrome = 12

// progress shows a download's progress: on a terminal one line redrawn in
// place by the progress library, as wide as the terminal; otherwise a plain
// line every plainEvery, and whenever the state changes.
type progress struct {
	w     io.Writer
	name  string // prefixes plain lines
	tty   bool
	bar   *progressbar.ProgressBar // on a terminal, made on the first update
	last  time.Time                // of the last plain line
	state swarm.State              // of the last plain line
}

func newProgress(w io.Writer, name string) *progress {
	return &progress{w: w, name: name, tty: isTerminal(w)}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termWidth is the width of the terminal w writes to, or defaultWidth.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	return defaultWidth
}

// status is what a progress line shows of a download: one file's, or a
// collection's summed over its files.
type status struct {
	done, size int64
	rate       float64 // bytes per second
	peers      int     // connected
	state      swarm.State
}

// fileStatus is the status of m's download from its snapshot s.
func fileStatus(m *swarm.Manifest, s swarm.FileStats) status {
	st := status{done: doneBytes(m, s), size: m.Size, rate: s.DownRate, state: s.State}
	for _, ps := range s.Peers {
		if ps.Connected {
			st.peers++
		}
	}
	return st
}

// update shows st, taken at now.
func (p *progress) update(now time.Time, st status) {
	if p.tty {
		p.draw(st)
		return
	}
	if p.state == st.state && now.Sub(p.last) < plainEvery {
		return
	}
	fmt.Fprintf(p.w, "%s: %s  %s\n", p.name, percent(st), statusText(st))
	p.last, p.state = now, st.state
}

// draw redraws the terminal line: the library's percentage and bar, then
// the status text, cut to leave the bar minBar cells.
func (p *progress) draw(st status) {
	max, cur := st.size, st.done
	if max == 0 { // the library needs a positive total; an empty file is whole once complete
		max, cur = 1, int64(fraction(st))
	}
	p.drawBar(max, cur, statusText(st))
}

// drawBar redraws the terminal line: the bar at cur of max, then text,
// cut to leave the bar minBar cells.
func (p *progress) drawBar(max, cur int64, text string) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionFullWidth(),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetRenderBlankState(false),
		)
	}
	p.bar.Describe(truncate(text, termWidth(p.w)-barChrome-minBar))
	_ = p.bar.Set64(cur) // its only errors are misuse: a total of 0 or more than the total
}

// checking shows, at now, how far a resumed download's check of the
// chunks already on disk is: done of total. Plain lines come at the
// start, at most every plainEvery, and at the end.
func (p *progress) checking(now time.Time, done, total int) {
	text := fmt.Sprintf("checking %d of %d chunks already here", done, total)
	if p.tty {
		p.drawBar(int64(total), int64(done), text)
		if done == total {
			p.end()
		}
		return
	}
	if done != 0 && done != total && now.Sub(p.last) < plainEvery {
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.name, text)
	p.last = now
}

// end finishes the terminal line, if one is drawn.
func (p *progress) end() {
	if p.bar != nil {
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// percent is st's percentage, rounded down so that 100% means done.
func percent(st status) string {
	return fmt.Sprintf("%5.1f%%", math.Floor(1000*fraction(st))/10)
}

// statusText is the bytes, speed, peers and ETA (or the state) of st.
func statusText(st status) string {
	noun := "peers"
	if st.peers == 1 {
		noun = "peer"
	}
	var tail string
	switch {
	case st.state == swarm.StateSeeding:
		tail = "done"
	case st.state == swarm.StateStalled:
		tail = "stalled: waiting for a peer with the missing chunks"
	case st.state == swarm.StateError:
		tail = "failed"
	case st.rate >= 1:
		left := float64(st.size-st.done) / st.rate
		tail = "ETA " + formatETA(time.Duration(left*float64(time.Second)))
	default:
		tail = "ETA --"
	}
	return fmt.Sprintf("%s / %s  %s/s  %d %s  %s",
		formatBytes(st.done), formatBytes(st.size), formatBytes(int64(st.rate)), st.peers, noun, tail)
}

// truncate cuts s to at most n cells, ending in "…" when cut.
func truncate(s string, n int) string {
	if uniseg.StringWidth(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		if w+g.Width() > n-1 {
			return b.String() + "…"
		}
		w += g.Width()
		b.WriteString(g.Str())
	}
	return b.String()
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

// fraction is how much of the download st holds, from 0 to 1; an empty
// download is whole once complete.
func fraction(st status) float64 {
	if st.size == 0 {
		if st.state == swarm.StateSeeding {
			return 1
		}
		return 0
	}
	return float64(st.done) / float64(st.size)
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
