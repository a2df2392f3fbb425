package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"tabswarm/signaling"
	"tabswarm/swarm"
	"tabswarm/swarm/swarmtest"
	"tabswarm/tracker"
)

// testToken is the cluster token of the tests' clusters.
const testToken = "cluster-test-token"

// node is one tracker of a test cluster, serving on loopback.
type node struct {
	bus  *Bus
	tr   *tracker.Tracker
	base string // http://127.0.0.1:port
	stop func() // stops the tracker, then the bus; also run by Cleanup
}

// startNode starts a bus with o and a tracker on it.
func startNode(t testing.TB, o Options) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bus, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		bus.Close()
		t.Fatal(err)
	}
	tr := tracker.New(tracker.Options{Bus: bus, App: fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}})
	sctx, scancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Serve(sctx, ln) }()
	n := &node{bus: bus, tr: tr, base: "http://" + ln.Addr().String()}
	stopped := false
	n.stop = func() {
		if stopped {
			return
		}
		stopped = true
		scancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		bus.Close()
	}
	t.Cleanup(n.stop)
	return n
}

// embeddedCluster starts n nodes that each embed a NATS server on
// 127.0.0.1, routed to the first, and waits until they form one cluster.
func embeddedCluster(t testing.TB, n int) []*node {
	t.Helper()
	first := startNode(t, Options{ClusterListen: "127.0.0.1:0", Token: testToken})
	nodes := []*node{first}
	route := "nats-route://" + first.bus.ClusterAddr().String()
	for range n - 1 {
		nodes = append(nodes, startNode(t, Options{ClusterListen: "127.0.0.1:0", Routes: []string{route}, Token: testToken}))
	}
	awaitCluster(t, nodes)
	return nodes
}

// awaitCluster waits until every node hears every other: a question to
// all gets an answer from each, and a relay to each finds it.
func awaitCluster(t testing.TB, nodes []*node) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			replies, _ := n.bus.AskAll(ctx, nil)
			reached := len(replies) == len(nodes)-1
			for _, o := range nodes {
				if o != n && reached {
					_, err := n.bus.Relay(ctx, o.bus.NodeID(), []byte("{}"))
					reached = err == nil
				}
			}
			cancel()
			if reached {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s reaches %d of %d other nodes after 20s", n.bus.NodeID(), len(replies), len(nodes)-1)
			}
		}
	}
}

// client is a real peer's signalling connection to one node.
type client struct {
	t  testing.TB
	c  *signaling.Client
	id string
}

// connect dials n's WebSocket and waits for the welcome.
func (n *node) connect(t testing.TB) *client {
	t.Helper()
	return connect(t, n.base)
}

// connect dials the WebSocket of the tracker at base (http://host:port)
// and waits for the welcome.
func connect(t testing.TB, base string) *client {
	t.Helper()
	c := signaling.NewClient("ws"+strings.TrimPrefix(base, "http")+"/ws", signaling.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := c.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, c: c, id: c.PeerID()}
}

// request sends m and returns the reply, or the typed error.
func (c *client) request(m signaling.Message) (signaling.Message, *signaling.Error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.c.Request(ctx, m)
	var e *signaling.Error
	if errors.As(err, &e) {
		return r, e
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return r, nil
}

// ok sends m and fails unless the reply is not an error.
func (c *client) ok(m signaling.Message) signaling.Message {
	c.t.Helper()
	r, e := c.request(m)
	if e != nil {
		c.t.Fatalf("%s: %v", m.Type, e)
	}
	return r
}

// refused sends m and fails unless the reply is an error with code.
func (c *client) refused(m signaling.Message, code signaling.ErrorCode) {
	c.t.Helper()
	if _, e := c.request(m); e == nil || e.Code != code {
		c.t.Fatalf("%s %+v: got error %v, want %s", m.Type, m.Signal, e, code)
	}
}

// refusedLater sends m without an ID, so that nothing waits for the
// verdict, and fails unless the next message is an error with ID 0 and
// code.
func (c *client) refusedLater(m signaling.Message, code signaling.ErrorCode) {
	c.t.Helper()
	if err := c.c.Send(context.Background(), m); err != nil {
		c.t.Fatal(err)
	}
	if got := c.next(); got.Type != signaling.TypeError || got.ID != 0 || got.Error == nil || got.Error.Code != code {
		c.t.Fatalf("%s %+v sent without an ID: got %+v, want an error %s with ID 0", m.Type, m.Signal, got, code)
	}
}

// find queries f until the reply lists exactly the holders want, and
// returns it. A holder on another node becomes visible once its node's
// interest in the swarm has crossed the routes, a moment after the
// announce: the query is repeated, for up to 10s, until it has.
func (c *client) find(f testFile, want ...string) signaling.Message {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, e := c.request(f.query())
		if e == nil && sameSet(ids(r.Peers), want) {
			return r
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("query for 10s: got %v (error %v), want %v", ids(r.Peers), e, want)
		}
	}
}

// next returns the next unasked message, failing after 5s.
func (c *client) next() signaling.Message {
	c.t.Helper()
	select {
	case m := <-c.c.Messages():
		return m
	case <-time.After(5 * time.Second):
		c.t.Fatal("no message from the tracker in 5s")
		return signaling.Message{}
	}
}

// testFile is a file's manifest, for announcing.
type testFile struct {
	m   *swarm.Manifest
	raw json.RawMessage
}

func newFile(t testing.TB) testFile {
	t.Helper()
	m, raw := swarmtest.Manifest(t, "file.bin", 1<<20)
	return testFile{m: m, raw: raw}
}

func (f testFile) digest() string { return f.m.Digest.String() }

func (f testFile) announce(complete bool) signaling.Message {
	have := 0
	if complete {
		have = f.m.NumChunks()
	}
	return signaling.Message{Type: signaling.TypeAnnounce, Digest: f.digest(), Manifest: f.raw, Have: have, Complete: complete}
}

func (f testFile) query() signaling.Message {
	return signaling.Message{Type: signaling.TypeQuery, Digest: f.digest()}
}

func signal(to string, f testFile, kind signaling.SignalKind, session string) signaling.Message {
	return signaling.Message{Type: signaling.TypeSignal, To: to, Digest: f.digest(), Signal: &signaling.Signal{Kind: kind, Session: session, SDP: "sdp of " + session}}
}

// get fetches n's path: the status and the body.
func (n *node) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(n.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// getText fetches n's path and fails unless it answers 200.
func (n *node) getText(t testing.TB, path string) string {
	t.Helper()
	status, b := n.get(t, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d", path, status)
	}
	return string(b)
}

// getJSON decodes a GET of n's path into v and returns the status.
func (n *node) getJSON(t testing.TB, path string, v any) int {
	t.Helper()
	status, b := n.get(t, path)
	if status == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %q: %v", path, b, err)
		}
	}
	return status
}
