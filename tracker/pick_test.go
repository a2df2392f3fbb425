package tracker

import (
	"fmt"
	"testing"

	"tabswarm/signaling"
)

func TestPick(t *testing.T) {
	cands := []signaling.PeerInfo{
		{ID: "seed", Have: 100, Complete: true},
		{ID: "most", Have: 90},
		{ID: "some", Have: 10},
		{ID: "none", Have: 0},
	}
	firsts := map[string]int{}
	picked := map[string]int{}
	const runs = 4000
	for range runs {
		got := pick(cands, 100, 2)
		if len(got) != 2 || got[0].ID == got[1].ID {
			t.Fatalf("pick returned %+v, want 2 distinct", got)
		}
		firsts[got[0].ID]++
		for _, p := range got {
			picked[p.ID]++
		}
	}
	// Weights 202, 91, 11, 1.
	if !(firsts["seed"] > firsts["most"] && firsts["most"] > firsts["some"] && firsts["some"] >= firsts["none"]) {
		t.Errorf("first picks %v, want ordered by weight", firsts)
	}
	if picked["none"] == 0 && picked["some"] == 0 {
		t.Errorf("picks %v: the partial peers never got a chance", picked)
	}
	if got := pick(cands, 100, 10); len(got) != len(cands) {
		t.Errorf("n larger than the candidates: %d, want all %d", len(got), len(cands))
	}
	if got := pick(nil, 100, 10); len(got) != 0 {
		t.Errorf("no candidates: %v", got)
	}
}

func ExampleTracker_Handler() {
	tr := New(Options{}) // the embedded app, default limits
	defer tr.Close()
	h := tr.Handler() // mount under any http.Server; or use Serve
	fmt.Println(h != nil)
	// Output: true
}
