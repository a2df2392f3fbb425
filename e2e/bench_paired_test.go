package e2e

import (
	"fmt"
	"testing"
	"time"

	"tabswarm/internal/figure"
	"tabswarm/swarm"
)

// benchPaired alternates a floor transfer and a fresh tab's tab-to-tab get
// of the same size-byte file, runs times, so that each pair sees the same
// spell of the machine (this VM's speed drifts by several per cent over
// minutes, and the floor and tab-to-tab sub-benchmarks run minutes
// apart), and prints the medians of each pair's ratios of tab to tab over
// the floor: MB/s from pressing Get; MB/s after the first chunk was
// stored (the floor's clock starts at its first block, with its
// connection already made, where tab to tab's first 0.3 s go to finding
// and connecting to the seeder); and the receiving renderer's
// CPU-seconds per byte, from pressing Get and after the first chunk
// stored (the floor's CPU, too, is counted from a connection made).
func benchPaired(b *testing.B, size int64) {
	e := newEnv(b)
	page := serveCeiling(b)
	f := makeFile(b, b.TempDir(), fmt.Sprintf("random-%dMiB.bin", size>>20), size)
	seeder := e.newPerson(b, "seeder", "/")
	seeder.share(b, f)
	floorTF := newTransferFigures("paired floor", size)
	tabTF := newTransferFigures("paired tab-to-tab", size)
	fromGet := figure.New("paired tab-to-tab / floor, MB/s from pressing Get", "×")
	afterFirst := figure.New("paired tab-to-tab / floor, MB/s after the first chunk stored", "×")
	cpu := figure.New("paired tab-to-tab / floor, receiving renderer CPU per byte", "×")
	cpuAfterFirst := figure.New("paired tab-to-tab / floor, receiving renderer CPU per byte after the first chunk stored", "×")
	chunk := swarm.ChunkSize(size)
	for i := range figure.Runs() {
		r, floorCPU := floorOnce(b, e, page, f, i, floorTF)
		floorRate := float64(size) / 1e6 / (r.MS / 1e3)

		l := e.newPerson(b, fmt.Sprintf("leecher%d", i), "/")
		rxPID, err := l.rendererPID()
		if err != nil {
			b.Fatal(err)
		}
		stop := tabTF.watch(b, seeder, l)
		start := l.pressGet(b, f.digest)
		first := l.waitFirstChunk(b, f.digest, start, sizeTimeout(size, 1e6))
		atFirst := chromiumCPU(e.browserPID())
		if !l.waitComplete(b, f.digest, size) {
			b.FailNow()
		}
		total := time.Since(start)
		// The receiving renderer's CPU-seconds per 64 MiB since then (no
		// sender is told apart: pid 0 is none).
		rest := cpuByKind(e.browserPID(), atFirst, 0, rxPID)[kindReceiver] * float64(64<<20) / float64(size-chunk)
		tabCPU := stop()
		l.close()

		fromGet.Add(float64(size) / 1e6 / total.Seconds() / floorRate)
		afterFirst.Add(float64(size-chunk) / 1e6 / (total - first).Seconds() / floorRate)
		cpu.Add(tabCPU[kindReceiver] / floorCPU[kindReceiver])
		cpuAfterFirst.Add(rest / floorCPU[kindReceiver])
	}
	floorTF.print()
	tabTF.print()
	fromGet.Print()
	afterFirst.Print()
	cpu.Print()
	cpuAfterFirst.Print()
}
