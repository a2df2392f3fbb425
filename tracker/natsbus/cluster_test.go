package natsbus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tabswarm/signaling"
)

// clusterSuite runs the cluster tests on clusters of three that start
// makes.
func clusterSuite(t *testing.T, start func(t *testing.T) []*node) {
	t.Run("offer answer close across nodes", func(t *testing.T) { testRelay(t, start(t)) })
	t.Run("refusals across nodes", func(t *testing.T) { testRefusals(t, start(t)) })
	t.Run("holders on other nodes", func(t *testing.T) { testHolders(t, start(t)) })
	t.Run("quick answers across nodes", func(t *testing.T) { testQuickAnswers(t, start(t)) })
	t.Run("stopped node", func(t *testing.T) { testStoppedNode(t, start(t)) })
}

func TestEmbeddedCluster(t *testing.T) {
	clusterSuite(t, func(t *testing.T) []*node { return embeddedCluster(t, 3) })
}

// testRelay: a seeder on node 0, a leecher on node 1 that finds it by
// query, and the whole offer, answer and close between them.
func testRelay(t *testing.T, nodes []*node) {
	f := newFile(t)
	seed, leech := nodes[0].connect(t), nodes[1].connect(t)
	seed.ok(f.announce(true))
	if r := leech.find(f, seed.id); len(r.Manifest) == 0 {
		t.Fatal("query on node 1 found the seeder on node 0 but no manifest")
	}

	leech.ok(signal(seed.id, f, signaling.SignalOffer, "s1"))
	got := seed.next()
	if got.Type != signaling.TypeSignal || got.From != leech.id || got.Signal.Kind != signaling.SignalOffer || got.Signal.SDP != "sdp of s1" || got.Digest != f.digest() {
		t.Fatalf("seeder got %+v, want the leecher's offer", got)
	}
	seed.ok(signal(leech.id, f, signaling.SignalAnswer, "s1"))
	if got := leech.next(); got.From != seed.id || got.Signal.Kind != signaling.SignalAnswer {
		t.Fatalf("leecher got %+v, want the seeder's answer", got)
	}
	// The offer is answered: a second answer has no offer to answer.
	seed.refused(signal(leech.id, f, signaling.SignalAnswer, "s1"), signaling.CodeNoOffer)

	leech.ok(signal(seed.id, f, signaling.SignalOffer, "s2"))
	seed.next()
	leech.ok(signal(seed.id, f, signaling.SignalClose, "s2"))
	if got := seed.next(); got.From != leech.id || got.Signal.Kind != signaling.SignalClose {
		t.Fatalf("seeder got %+v, want the leecher's close", got)
	}
	// The close ended the offer on both nodes.
	seed.refused(signal(leech.id, f, signaling.SignalAnswer, "s2"), signaling.CodeNoOffer)
}

// testRefusals: every relay rule holds across nodes, with the error one
// node gives.
func testRefusals(t *testing.T, nodes []*node) {
	f := newFile(t)
	seed, leech, stranger := nodes[0].connect(t), nodes[1].connect(t), nodes[2].connect(t)
	seed.ok(f.announce(true))
	leech.find(f, seed.id)

	// The sender's node checks the sender, the receiver's the receiver.
	stranger.refused(signal(seed.id, f, signaling.SignalOffer, "x"), signaling.CodeNotInSwarm)
	seed.refused(signal(stranger.id, f, signaling.SignalOffer, "x"), signaling.CodeNotInSwarm)
	seed.refused(signal(stranger.id, f, signaling.SignalClose, "x"), signaling.CodeNotInSwarm)
	// A signal without an ID is not waited for; the refusal comes later.
	seed.refusedLater(signal(stranger.id, f, signaling.SignalOffer, "w"), signaling.CodeNotInSwarm)
	// An answer needs an offer from its addressee, kept on the offerer's node.
	stranger.refused(signal(leech.id, f, signaling.SignalAnswer, "x"), signaling.CodeNoOffer)
	seed.refused(signal(leech.id, f, signaling.SignalAnswer, "x"), signaling.CodeNoOffer)
	leech.ok(signal(seed.id, f, signaling.SignalOffer, "y"))
	seed.next()
	stranger.find(f, seed.id)
	// The offer the stranger's node refused left nothing to answer.
	stranger.refused(signal(seed.id, f, signaling.SignalAnswer, "x"), signaling.CodeNoOffer)
	stranger.refused(signal(seed.id, f, signaling.SignalAnswer, "w"), signaling.CodeNoOffer)
	stranger.refused(signal(leech.id, f, signaling.SignalAnswer, "y"), signaling.CodeNoOffer) // not its offer
	seed.refused(signal(leech.id, f, signaling.SignalAnswer, "z"), signaling.CodeNoOffer)     // not its session
	// Unknown peers: on a live node, and on a node that does not exist.
	gone := leech.id[:len(leech.id)-8] + stranger.id[len(stranger.id)-8:]
	seed.refused(signal(gone, f, signaling.SignalOffer, "x"), signaling.CodeUnknownPeer)
	seed.refused(signal("0123456789abcdef01234567deadbeef", f, signaling.SignalOffer, "x"), signaling.CodeUnknownPeer)
	seed.refusedLater(signal(gone, f, signaling.SignalOffer, "x"), signaling.CodeUnknownPeer)
	seed.refusedLater(signal("0123456789abcdef01234567deadbeef", f, signaling.SignalOffer, "x"), signaling.CodeUnknownPeer)
	// None of it stopped the real exchange.
	seed.ok(signal(leech.id, f, signaling.SignalAnswer, "y"))
	if got := leech.next(); got.From != seed.id || got.Signal.Kind != signaling.SignalAnswer {
		t.Fatalf("leecher got %+v, want the answer", got)
	}
}

// testQuickAnswers: pairs across nodes exchange offers and answers as fast
// as they can, each answer sent the moment its offer arrives, which may be
// before the offerer's node has heard that the offer was delivered.
func testQuickAnswers(t *testing.T, nodes []*node) {
	const pairs, rounds = 8, 100
	f := newFile(t)
	var offerers []*client
	var ids []string
	for range pairs {
		o := nodes[0].connect(t)
		o.ok(f.announce(true))
		offerers = append(offerers, o)
		ids = append(ids, o.id)
	}
	errs := make(chan error, pairs)
	for p := range pairs {
		a := nodes[1+p%2].connect(t)
		a.find(f, ids...)
		o := offerers[p]
		go func() {
			_, err := exchange(o, a, f, rounds, time.Now().Add(time.Hour), "")
			errs <- err
		}()
	}
	for range pairs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// exchange has o offer and a answer (each SDP padded with pad), each the
// moment the other's signal arrives, for rounds rounds or until end, and
// returns the rounds done.
func exchange(o, a *client, f testFile, rounds int, end time.Time, pad string) (int, error) {
	ctx := context.Background()
	for i := range rounds {
		if time.Now().After(end) {
			return i, nil
		}
		s := "q" + strconv.Itoa(i)
		offer := signal(a.id, f, signaling.SignalOffer, s)
		offer.Signal.SDP += pad
		if err := o.c.Send(ctx, offer); err != nil {
			return i, err
		}
		if m, err := nextSignal(a); err != nil {
			return i, fmt.Errorf("round %d, answerer: %w", i, err)
		} else if m.Signal.Kind != signaling.SignalOffer {
			return i, fmt.Errorf("round %d: answerer got %+v", i, m)
		}
		answer := signal(o.id, f, signaling.SignalAnswer, s)
		answer.Signal.SDP += pad
		if err := a.c.Send(ctx, answer); err != nil {
			return i, err
		}
		if _, err := nextSignal(o); err != nil {
			return i, fmt.Errorf("round %d, offerer: %w", i, err)
		}
	}
	return rounds, nil
}

// nextSignal returns c's next message if it is a relayed signal; an error
// (a refused signal), or nothing within 5s, is an error.
func nextSignal(c *client) (signaling.Message, error) {
	select {
	case m := <-c.c.Messages():
		if m.Type != signaling.TypeSignal {
			return m, fmt.Errorf("got %s %v, want a relayed signal", m.Type, m.Error)
		}
		return m, nil
	case <-time.After(5 * time.Second):
		return signaling.Message{}, errors.New("no relayed signal in 5s")
	}
}

// testHolders: a query, /api/files and /api/stats on one node see the
// holders on the others, with their nodes; newcomers on one node are
// announced to members on another; a node learns a manifest from another.
func testHolders(t *testing.T, nodes []*node) {
	f := newFile(t)
	a, b, c := nodes[0].connect(t), nodes[1].connect(t), nodes[2].connect(t)
	a.ok(f.announce(true))
	c.find(f, a.id) // interested on node 2
	// Announced on node 1 without the manifest, which node 0 has.
	b.ok(signaling.Message{Type: signaling.TypeAnnounce, Digest: f.digest(), Have: 0})
	if got := c.next(); got.Type != signaling.TypePeers || !slices.Equal(ids(got.Peers), []string{b.id}) {
		t.Fatalf("member on node 2 got %+v, want the newcomer on node 1", got)
	}
	c.find(f, a.id, b.id)

	var fi struct {
		Peers []struct {
			ID   string `json:"id"`
			Node string `json:"node"`
		} `json:"peers"`
	}
	if status := nodes[2].getJSON(t, "/api/files/"+f.digest(), &fi); status != http.StatusOK {
		t.Fatalf("/api/files on node 2: %d", status)
	}
	want := map[string]string{a.id: nodes[0].bus.NodeID(), b.id: nodes[1].bus.NodeID()}
	if len(fi.Peers) != len(want) {
		t.Fatalf("/api/files lists %+v, want %v", fi.Peers, want)
	}
	for _, p := range fi.Peers {
		if want[p.ID] != p.Node {
			t.Fatalf("/api/files lists %+v, want %v", fi.Peers, want)
		}
	}

	var st struct {
		Peers  int `json:"peers"`
		Nodes  int `json:"nodes"`
		Swarms []struct {
			Digest   string `json:"digest"`
			Seeders  int    `json:"seeders"`
			Leechers int    `json:"leechers"`
			Peers    []struct {
				Node string `json:"node"`
			} `json:"peers"`
		} `json:"swarms"`
	}
	if status := nodes[1].getJSON(t, "/api/stats", &st); status != http.StatusOK {
		t.Fatalf("/api/stats: %d", status)
	}
	if st.Peers != 3 || st.Nodes != 3 || len(st.Swarms) != 1 || st.Swarms[0].Seeders != 1 || st.Swarms[0].Leechers != 2 {
		t.Fatalf("/api/stats on node 1: %+v, want 3 peers on 3 nodes, one swarm of 1 seeder and 2 leechers", st)
	}
	var seen []string
	for _, p := range st.Swarms[0].Peers {
		seen = append(seen, p.Node)
	}
	if !sameSet(seen, []string{nodes[0].bus.NodeID(), nodes[1].bus.NodeID(), nodes[2].bus.NodeID()}) {
		t.Fatalf("/api/stats lists members on nodes %v, want one on each", seen)
	}
	page := nodes[2].getText(t, "/stats")
	for _, n := range nodes {
		if !strings.Contains(page, "on "+n.bus.NodeID()) {
			t.Fatalf("/stats on node 2 does not show a member on node %s", n.bus.NodeID())
		}
	}
}

// testStoppedNode: once a node stops, its holders are gone from every
// other node's answers, and its peer IDs name no one.
func testStoppedNode(t *testing.T, nodes []*node) {
	f := newFile(t)
	a, b, c := nodes[0].connect(t), nodes[1].connect(t), nodes[2].connect(t)
	a.ok(f.announce(true))
	b.ok(f.announce(true))
	c.find(f, a.id, b.id)
	nodes[0].stop()
	if r := c.ok(f.query()); !slices.Equal(ids(r.Peers), []string{b.id}) {
		t.Fatalf("query after node 0 stopped found %v, want only %v", ids(r.Peers), b.id)
	}
	c.refused(signal(a.id, f, signaling.SignalOffer, "x"), signaling.CodeUnknownPeer)
	c.refusedLater(signal(a.id, f, signaling.SignalOffer, "y"), signaling.CodeUnknownPeer)
	nodes[1].stop()
	if r := c.ok(f.query()); len(r.Peers) != 0 {
		t.Fatalf("query after nodes 0 and 1 stopped found %v, want none", ids(r.Peers))
	}
}

func ids(ps []signaling.PeerInfo) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCloseTwice: a second Close does nothing (it used to panic).
func TestCloseTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{ClusterListen: "127.0.0.1:0", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close()
}
