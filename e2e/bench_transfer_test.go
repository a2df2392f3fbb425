package e2e

import (
	"fmt"
	"testing"

	"tabswarm/internal/figure"
)

// transferFigures are the figures, beside MB/s, that make bench prints for
// one kind of transfer (the ceiling, the floor, tabswarm): the Chromium
// CPU-seconds per 64 MiB moved, per process kind, and the receiving
// renderer's peak resident memory.
type transferFigures struct {
	size int64
	cpu  map[string]*figure.Figure
	rss  *figure.Figure
}

// newTransferFigures returns empty figures for transfers of size bytes,
// each named after name.
func newTransferFigures(name string, size int64) *transferFigures {
	t := &transferFigures{
		size: size,
		cpu:  map[string]*figure.Figure{},
		rss:  figure.New(name+" peak receiving renderer RSS", "MB"),
	}
	for _, k := range procKinds {
		t.cpu[k] = figure.New(fmt.Sprintf("%s CPU per 64MiB, %s", name, k), "s")
	}
	return t
}

// watch starts measuring one transfer from tx's tab to rx's; the returned
// stop, called once the transfer is complete, records it and returns its
// CPU-seconds per 64 MiB by process kind.
func (t *transferFigures) watch(tb testing.TB, tx, rx *person) (stop func() map[string]float64) {
	tb.Helper()
	txPID, err := tx.rendererPID()
	if err != nil {
		tb.Fatal(err)
	}
	rxPID, err := rx.rendererPID()
	if err != nil {
		tb.Fatal(err)
	}
	if txPID == rxPID {
		tb.Fatalf("%s and %s share renderer process %d: their CPU cannot be told apart", tx.name, rx.name, txPID)
	}
	root := tx.env.browserPID()
	before := chromiumCPU(root)
	stopRSS := peakRSS(rxPID)
	return func() map[string]float64 {
		rss := stopRSS()
		tb.Logf("%s to %s (renderers %d and %d): %s", tx.name, rx.name, txPID, rxPID, cpuSince(root, before))
		per := float64(64<<20) / float64(t.size)
		cpu := cpuByKind(root, before, txPID, rxPID)
		for _, k := range procKinds {
			cpu[k] *= per
			t.cpu[k].Add(cpu[k])
		}
		t.rss.Add(rss / 1e6)
		return cpu
	}
}

// print prints the figures.
func (t *transferFigures) print() {
	for _, k := range procKinds {
		t.cpu[k].Print()
	}
	t.rss.Print()
}
