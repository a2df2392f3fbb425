package main

import (
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tabswarm/swarm"
)

// openPTY opens a pseudo-terminal cols cells wide and returns its terminal
// side and a channel that yields everything written to it once the terminal
// side is closed.
func openPTY(t *testing.T, cols uint16) (*os.File, <-chan string) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(ptm) // ends with EIO once pts is closed
		out <- string(b)
	}()
	return pts, out
}

// ptyOutput closes the terminal side of a pty from openPTY and returns
// all that was written to it.
func ptyOutput(t *testing.T, pts *os.File, out <-chan string) string {
	t.Helper()
	pts.Close()
	select {
	case got := <-out:
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("pty output never ended")
		return ""
	}
}

// TestProgressFitsTerminal draws on real pseudo-terminals of two widths:
// every line fits, and the wider terminal gets the wider bar.
func TestProgressFitsTerminal(t *testing.T) {
	bars := map[uint16]int{}
	for _, cols := range []uint16{50, 120} {
		pts, out := openPTY(t, cols)
		p := newProgress(pts, "x")
		if !p.tty || termWidth(pts) != int(cols) {
			t.Fatalf("a %d-column pty: tty %v, width %d", cols, p.tty, termWidth(pts))
		}
		st := status{done: 3 << 20, size: 8 << 20, rate: 1 << 20, peers: 2, state: swarm.StateDownloading}
		p.update(time.Now(), st)
		p.update(time.Now(), status{done: 1 << 20, size: 8 << 20, peers: 1, state: swarm.StateStalled})
		p.end()
		got := ptyOutput(t, pts, out)
		checkDrawn(t, got, int(cols), "3.0 MiB / 8.0 MiB")
		checkDrawn(t, got, int(cols), "1.0 MiB / 8.0 MiB")
		if m := barCells.FindStringSubmatch(got); m != nil {
			bars[cols] = len([]rune(m[1]))
		}
	}
	if bars[120] <= bars[50] {
		t.Errorf("bar cells by width: %v; the wider terminal should get the wider bar", bars)
	}
}
