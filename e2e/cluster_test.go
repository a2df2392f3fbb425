package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// TestClusterNodeKill is issue 11's e2e: three `tabswarm serve` processes
// routed together over NATS, behind a round-robin balancer with no sticky
// sessions. Three peers on three nodes: a native peer, alice, shares 32
// MiB, and two people download it. The node of a downloader is killed
// (SIGKILL) mid-transfer: the download finishes, the tab reconnects to
// another node, and every node left lists every holder to a fourth person,
// who gets the file too. Alice is gated (gate_test.go): she serves half the
// chunks until the kill, so the kill is certainly mid-transfer.
func TestClusterNodeKill(t *testing.T) {
	const size = 32 << 20
	exe := chromiumPath(t)
	lg := newSafeLog(t)
	c := startCluster(t, lg, 3)
	e := &env{tb: t, log: lg, base: c.lb.base()}
	e.browser = startBrowser(t, lg, exe)
	f := makeFile(t, t.TempDir(), "cluster.bin", size)
	chunks := numChunks(size)

	// Peers that connect one after another land on node after node.
	bob, carol := e.newPerson(t, "bob", "/"), e.newPerson(t, "carol", "/")
	alice := e.startGatedSeeder(t, "alice", f, chunks/2)
	on := map[string]*clusterNode{}
	for name, id := range map[string]string{"alice": alice.node.PeerID(), "bob": bob.peerID(t), "carol": carol.peerID(t)} {
		on[name] = c.nodeOf(t, id)
		t.Logf("%s is on %s", name, on[name].name)
	}
	if on["alice"] == on["bob"] || on["bob"] == on["carol"] || on["alice"] == on["carol"] {
		t.Fatalf("want three peers on three nodes, got alice on %s, bob on %s, carol on %s", on["alice"].name, on["bob"].name, on["carol"].name)
	}

	bob.pressGet(t, f.digest)
	carol.pressGet(t, f.digest)
	bob.waitFile(t, "a quarter of the file", f.digest, statsPoll, 2*time.Minute, haveAtLeast(chunks/4))
	bobWas := bob.peerID(t)
	killed := on["bob"]
	killed.kill(t)
	alice.gate.Release()
	s, _ := bob.mustStats(t).file(f.digest)
	t.Logf("killed %s, bob's node, with bob at %s", killed.name, fileText(s))
	if s.State == swarm.StateSeeding {
		t.Fatalf("bob finished before his node was killed: the gate let too much through")
	}

	bob.waitRow(t, "download across the node kill", byDigest(f.digest), stateSeeding, sizeTimeout(size, 1e6))
	carol.waitRow(t, "download", byDigest(f.digest), stateSeeding, sizeTimeout(size, 1e6))
	checkSaved(t, "bob", f, bob.save(t, f.digest, size))
	checkSaved(t, "carol", f, carol.save(t, f.digest, size))

	// Bob's tab reconnected, with a new peer ID, to a node still alive.
	var bobNow string
	err := poll(bob.ctx, stepTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := bob.stats(ctx)
		bobNow = s.PeerID
		return err == nil && bobNow != "" && bobNow != bobWas, err
	})
	if err != nil {
		t.Fatalf("bob kept peer ID %s of the killed node: %v", bobWas, err)
	}
	if n := c.nodeOf(t, bobNow); n == killed || !n.alive() {
		t.Fatalf("bob's new peer ID %s is on %s, which is dead", bobNow, n.name)
	}

	// Every node left, asked through the balancer and directly, lists the
	// three holders and none of the killed node.
	holders := []string{alice.node.PeerID(), bobNow, carol.peerID(t)}
	c.waitHolders(t, f.digest, holders, killed)

	dave := e.newPerson(t, "dave", "/")
	t.Logf("dave is on %s", c.nodeOf(t, dave.peerID(t)).name)
	dave.get(t, f.digest, f.digest, size)
	checkSaved(t, "dave", f, dave.save(t, f.digest, size))
}

// peerID waits until p's tab has a peer ID from the tracker and returns it.
func (p *person) peerID(tb testing.TB) string {
	tb.Helper()
	var id string
	err := poll(p.ctx, stepTimeout, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := p.stats(ctx)
		id = s.PeerID
		return id != "", err
	})
	if err != nil {
		tb.Fatalf("%s has no peer ID: %v\n%s", p.name, err, p.dump())
	}
	return id
}

// waitHolders polls GET /api/files/{digest} through the balancer and at
// every live node until each answer lists every peer in want and no peer
// of the node dead (nil: of no node).
func (c *cluster) waitHolders(tb testing.TB, digest string, want []string, dead *clusterNode) {
	tb.Helper()
	var last string
	err := poll(context.Background(), stepTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		addrs := []string{c.lb.addr, c.lb.addr}
		for _, n := range c.nodes {
			if n.alive() {
				addrs = append(addrs, n.addr)
			}
		}
		for _, a := range addrs {
			ids, err := holdersAt(ctx, a, digest)
			if err != nil {
				return false, err
			}
			last = fmt.Sprintf("%s lists %q", a, ids)
			for _, id := range want {
				if !slices.Contains(ids, id) {
					return false, nil
				}
			}
			for _, id := range ids {
				if dead != nil && c.nodeOf(tb, id) == dead {
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		tb.Fatalf("want holders %q of %s at every node, none of a dead node: %v; last: %s", want, digest, err, last)
	}
}

// holdersAt returns the peer IDs GET http://addr/api/files/{digest} lists.
func holdersAt(ctx context.Context, addr, digest string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/files/"+digest, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	var body struct {
		Peers []signaling.PeerInfo `json:"peers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: %w", req.URL, err)
	}
	var ids []string
	for _, p := range body.Peers {
		ids = append(ids, p.ID)
	}
	return ids, nil
}
