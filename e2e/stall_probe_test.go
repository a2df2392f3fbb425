package e2e

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestProbeStall is a tool, not a check: it runs TABSWARM_STALL_RUNS gets
// of one file (TABSWARM_STALL_MIB, default 16) from one seeder, each by a
// fresh tab in its own browser context, with the peers' connection logs
// on, and fails for each run whose first chunk came more than 3 s after
// Get, so that the logs around it show why. It found the lost-hello stall
// (README, Performance). For example:
//
//	TABSWARM_STALL_RUNS=120 go test -run TestProbeStall -v -timeout 30m ./e2e
func TestProbeStall(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("TABSWARM_STALL_RUNS"))
	if runs <= 0 {
		t.Skip("a tool: set TABSWARM_STALL_RUNS to the number of gets")
	}
	mib, _ := strconv.Atoi(os.Getenv("TABSWARM_STALL_MIB"))
	size := int64(cmp.Or(mib, 16)) << 20
	e := newEnv(t)
	seeder := e.newPerson(t, "seeder", "/")
	f := makeFile(t, t.TempDir(), fmt.Sprintf("random-%dMiB.bin", size>>20), size)
	seeder.share(t, f)
	var firsts []time.Duration
	for i := range runs {
		l := e.newPerson(t, fmt.Sprintf("leecher%d", i), "/")
		start := l.pressGet(t, f.digest)
		first := l.waitFirstChunk(t, f.digest, start, time.Minute)
		firsts = append(firsts, first)
		if !l.waitComplete(t, f.digest, f.size) {
			t.FailNow()
		}
		e.log.logf("run %d: first chunk %v, complete %v", i, first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		if first > 3*time.Second {
			t.Errorf("run %d: the first chunk came %v after Get", i, first.Round(time.Millisecond))
		}
		l.close()
	}
	slices.Sort(firsts)
	t.Logf("%d runs: first chunk median %v, slowest %v", runs, firsts[runs/2].Round(time.Millisecond), firsts[runs-1].Round(time.Millisecond))
}
