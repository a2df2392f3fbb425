//go:build !js

package swarm_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"tabswarm/swarm"
)

// gatedConnector is a Connector with no network that records each
// announce and leave, and can hold announces at a gate.
type gatedConnector struct {
	handler chan swarm.Handler
	mu      sync.Mutex
	log     []string
	gate    chan struct{} // announces wait on it while not nil
	held    chan struct{} // pinged when an announce reaches the gate
}

func newGatedConnector() *gatedConnector {
	return &gatedConnector{handler: make(chan swarm.Handler, 1), held: make(chan struct{}, 1)}
}

func (g *gatedConnector) Run(ctx context.Context, h swarm.Handler) error {
	g.handler <- h
	<-ctx.Done()
	return ctx.Err()
}

func (g *gatedConnector) PeerID() string                          { return "me" }
func (g *gatedConnector) WaitConnected(ctx context.Context) error { return nil }

func (g *gatedConnector) Query(ctx context.Context, d swarm.Hash) ([]byte, []string, error) {
	return nil, nil, swarm.ErrNoPeers
}

func (g *gatedConnector) Announce(ctx context.Context, a swarm.Announcement) error {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case g.held <- struct{}{}:
		default:
		}
		<-gate
	}
	g.record("announced " + a.Digest.String()[:8])
	return nil
}

func (g *gatedConnector) Leave(ctx context.Context, d swarm.Hash) { g.record("left " + d.String()[:8]) }

func (g *gatedConnector) Dial(ctx context.Context, d swarm.Hash, peer string) (swarm.Conn, error) {
	return swarm.Conn{}, errors.New("no network")
}

func (g *gatedConnector) record(s string) {
	g.mu.Lock()
	g.log = append(g.log, s)
	g.mu.Unlock()
}

func (g *gatedConnector) events() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.log)
}

// TestRemoveLeavesAfterAnnounce: a file removed while a re-announce of it
// (after a reconnection) waits for the tracker leaves only after that
// announce, and nothing announces it after: the tracker must not go on
// listing the node for a file it no longer holds.
func TestRemoveLeavesAfterAnnounce(t *testing.T) {
	lib := new(swarm.MemLibrary)
	m := seedBytes(t, lib, "a.txt", []byte("hello"))
	g := newGatedConnector()
	n := swarm.NewNode(swarm.Options{Connector: g, Library: lib})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	h := <-g.handler
	if _, err := n.Add(ctx, m); err != nil {
		t.Fatal(err)
	}
	d := m.Digest.String()[:8]
	for deadline := time.Now().Add(5 * time.Second); !slices.Contains(g.events(), "announced "+d); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the file was never announced")
		}
	}
	gate := make(chan struct{})
	g.mu.Lock()
	g.gate = gate
	g.mu.Unlock()
	go h.Connected(ctx) // a reconnection: every file is announced again
	<-g.held
	removed := make(chan error, 1)
	go func() { removed <- n.Remove(ctx, m.Digest) }()
	time.Sleep(100 * time.Millisecond) // time enough for a leave that does not wait
	if ev := g.events(); slices.Contains(ev, "left "+d) {
		t.Fatalf("left while the re-announce was under way: %v", ev)
	}
	g.mu.Lock()
	g.gate = nil
	g.mu.Unlock()
	close(gate)
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	h.Connected(ctx) // another reconnection: the removed file is not announced
	ev := g.events()
	if want := []string{"announced " + d, "announced " + d, "left " + d}; !slices.Equal(ev, want) {
		t.Errorf("tracker saw %v, want %v", ev, want)
	}
}
