package natsbus

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"tabswarm/internal/testpki"
	"tabswarm/tracker"
)

// nodeTLS issues a node's certificate from ca and returns its files.
func nodeTLS(ca *testpki.CA, name string) TLSFiles {
	cert, key := ca.Issue(name)
	return TLSFiles{Cert: cert, Key: key, CA: ca.File}
}

// TestRouteTLS: nodes whose certificates one CA signed form a cluster over
// mutual TLS and relay across it; a node with a certificate from another
// CA, or with none, never joins them, token or not.
func TestRouteTLS(t *testing.T) {
	ca := testpki.NewCA(t, "cluster")
	first := startNode(t, Options{ClusterListen: "127.0.0.1:0", Token: testToken, TLS: nodeTLS(ca, "first")})
	route := []string{"nats-route://" + first.bus.ClusterAddr().String()}
	second := startNode(t, Options{ClusterListen: "127.0.0.1:0", Token: testToken, Routes: route, TLS: nodeTLS(ca, "second")})
	awaitCluster(t, []*node{first, second})
	f := newFile(t)
	a, b := first.connect(t), second.connect(t)
	a.ok(f.announce(true))
	b.find(f, a.id)
	if _, err := exchange(a, b, f, 3, time.Now().Add(time.Minute), ""); err != nil {
		t.Fatalf("offers and answers across a TLS route: %v", err)
	}

	stranger := nodeTLS(testpki.NewCA(t, "stranger"), "stranger")
	for name, o := range map[string]Options{
		"another CA's certificate": {ClusterListen: "127.0.0.1:0", Token: testToken, Routes: route, TLS: stranger},
		"no TLS":                   {ClusterListen: "127.0.0.1:0", Token: testToken, Routes: route},
	} {
		n := startNode(t, o)
		time.Sleep(2 * time.Second) // routes retry about every second
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		replies, _ := first.bus.AskAll(ctx, nil)
		_, err := first.bus.Relay(ctx, n.bus.NodeID(), []byte("{}"))
		cancel()
		if len(replies) != 1 || !errors.Is(err, tracker.ErrNoNode) {
			t.Errorf("a node with %s: the cluster hears %d other nodes (want 1) and a relay to it gives %v (want ErrNoNode)", name, len(replies), err)
		}
		n.stop()
	}
}

// TestTLSConfig: TLS between embedded nodes needs all three files, and
// files that do not load say so.
func TestTLSConfig(t *testing.T) {
	ca := testpki.NewCA(t, "cluster")
	good := nodeTLS(ca, "n")
	for name, files := range map[string]TLSFiles{
		"no CA":          {Cert: good.Cert, Key: good.Key},
		"no key":         {Cert: good.Cert, CA: good.CA},
		"a missing file": {Cert: good.Cert, Key: filepath.Join(t.TempDir(), "none.pem"), CA: good.CA},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b, err := Start(ctx, Options{ClusterListen: "127.0.0.1:0", Token: testToken, TLS: files})
		cancel()
		if err == nil {
			b.Close()
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Start gave %v, want ErrConfig", name, err)
		}
	}
}

// TestExternalNATSTLS: a node joins a real nats-server that requires TLS
// with client certificates, given the CA and its certificate; without the
// CA it cannot trust the server and says so.
func TestExternalNATSTLS(t *testing.T) {
	ca := testpki.NewCA(t, "deployment")
	srv := nodeTLS(ca, "nats-server")
	url := startNATSServer(t, tracker.MaxBusMessage, fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n}\n", srv.Cert, srv.Key, srv.CA))
	nodes := []*node{
		startNode(t, Options{URL: url, Token: testToken, TLS: nodeTLS(ca, "a")}),
		startNode(t, Options{URL: url, Token: testToken, TLS: nodeTLS(ca, "b")}),
	}
	awaitCluster(t, nodes)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	noCA := nodeTLS(ca, "c")
	noCA.CA = ""
	b, err := Start(ctx, Options{URL: url, Token: testToken, TLS: noCA})
	if err == nil {
		b.Close()
		t.Fatal("a node that cannot check the server's certificate joined")
	}
}
