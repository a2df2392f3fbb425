package tracker

import (
	"cmp"
	"slices"
)

// mergeStats adds the statistics of other nodes to this node's, b: counts
// and byte totals sum, a swarm on several nodes becomes one entry with the
// members of all, and the lists keep their bounds and order. Started and
// the uptime stay this node's.
func mergeStats(b statsBody, others []statsBody, maxSwarms, maxPeers int) statsBody {
	bySwarm := make(map[string]*swarmStats, len(b.Swarms))
	order := make([]*swarmStats, 0, len(b.Swarms))
	listedAll := len(b.Swarms) == b.SwarmCount
	most := b.SwarmCount
	add := func(ss swarmStats) {
		m := bySwarm[ss.Digest]
		if m == nil {
			c := ss
			c.Peers = slices.Clone(ss.Peers)
			bySwarm[ss.Digest] = &c
			order = append(order, &c)
			return
		}
		m.Seeders += ss.Seeders
		m.Leechers += ss.Leechers
		m.Peers = append(m.Peers, ss.Peers...)
	}
	for _, ss := range b.Swarms {
		add(ss)
	}
	for _, o := range others {
		b.Peers += o.Peers
		b.MessagesPerSecond += o.MessagesPerSecond
		b.BytesUploaded += o.BytesUploaded
		b.BytesDownloaded += o.BytesDownloaded
		b.Nodes += max(o.Nodes, 1)
		listedAll = listedAll && len(o.Swarms) == o.SwarmCount
		most = max(most, o.SwarmCount)
		for _, ss := range o.Swarms {
			add(ss)
		}
	}
	// A swarm on two nodes counts once when every node listed all its
	// swarms; otherwise the count is the best bound known.
	b.SwarmCount = max(len(order), most)
	if listedAll {
		b.SwarmCount = len(order)
	}
	slices.SortFunc(order, func(x, y *swarmStats) int {
		return cmp.Or(cmp.Compare(x.Seeders+x.Leechers, y.Seeders+y.Leechers)*-1, cmp.Compare(x.Digest, y.Digest))
	})
	b.Swarms = make([]swarmStats, 0, min(len(order), maxSwarms))
	for _, ss := range order[:min(len(order), maxSwarms)] {
		sortPeerStats(ss.Peers)
		ss.Peers = ss.Peers[:min(len(ss.Peers), maxPeers)]
		b.Swarms = append(b.Swarms, *ss)
	}
	return b
}
