package tracker

import (
	"math"
	"math/rand/v2"
	"sort"

	"tabswarm/signaling"
)

// pick returns up to n of cands in random order, sampled without replacement
// with probability growing with what each holds: a complete peer weighs
// twice a file's chunk count, a partial one its chunk count plus one. So
// seeders and well-advanced leechers come first, yet every peer gets a
// chance and load spreads over all seeders. chunks is the file's chunk
// count.
func pick(cands []signaling.PeerInfo, chunks, n int) []signaling.PeerInfo {
	type keyed struct {
		key  float64
		info signaling.PeerInfo
	}
	ks := make([]keyed, len(cands))
	for i, c := range cands {
		w := float64(c.Have + 1)
		if c.Complete {
			w = 2 * float64(chunks+1)
		}
		// Efraimidis–Spirakis: the n largest u^(1/w) form a weighted
		// sample; log keeps it numerically tame.
		ks[i] = keyed{key: math.Log(1-rand.Float64()) / w, info: c}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key > ks[j].key })
	out := make([]signaling.PeerInfo, 0, min(n, len(ks)))
	for _, k := range ks[:min(n, len(ks))] {
		out = append(out, k.info)
	}
	return out
}
