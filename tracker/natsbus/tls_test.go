package natsbus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tabswarm/tracker"
)

// testCA is a certificate authority made for one test, writing PEM files
// into its folder.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate's PEM file
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{t: t, dir: t.TempDir(), cert: cert, key: key}
	ca.file = ca.write(name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, kind string, der []byte) string {
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// node issues a certificate for 127.0.0.1, good for both ends of a TLS
// connection, and returns the files of a node that uses it.
func (ca *testCA) node(name string) TLSFiles {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return TLSFiles{Cert: ca.write(name+".pem", "CERTIFICATE", der), Key: ca.write(name+"-key.pem", "EC PRIVATE KEY", kder), CA: ca.file}
}

// TestRouteTLS: nodes whose certificates one CA signed form a cluster over
// mutual TLS and relay across it; a node with a certificate from another
// CA, or with none, never joins them, token or not.
func TestRouteTLS(t *testing.T) {
	ca := newTestCA(t, "cluster")
	first := startNode(t, Options{ClusterListen: "127.0.0.1:0", Token: testToken, TLS: ca.node("first")})
	route := []string{"nats-route://" + first.bus.ClusterAddr().String()}
	second := startNode(t, Options{ClusterListen: "127.0.0.1:0", Token: testToken, Routes: route, TLS: ca.node("second")})
	awaitCluster(t, []*node{first, second})
	f := newFile(t)
	a, b := first.connect(t), second.connect(t)
	a.ok(f.announce(true))
	b.find(f, a.id)
	if _, err := exchange(a, b, f, 3, time.Now().Add(time.Minute), ""); err != nil {
		t.Fatalf("offers and answers across a TLS route: %v", err)
	}

	stranger := newTestCA(t, "stranger").node("stranger")
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
	ca := newTestCA(t, "cluster")
	good := ca.node("n")
	for name, files := range map[string]TLSFiles{
		"no CA":          {Cert: good.Cert, Key: good.Key},
		"no key":         {Cert: good.Cert, CA: good.CA},
		"a missing file": {Cert: good.Cert, Key: filepath.Join(ca.dir, "none.pem"), CA: good.CA},
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
	ca := newTestCA(t, "deployment")
	srv := ca.node("nats-server")
	url := startNATSServer(t, tracker.MaxBusMessage, fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n}\n", srv.Cert, srv.Key, srv.CA))
	nodes := []*node{
		startNode(t, Options{URL: url, Token: testToken, TLS: ca.node("a")}),
		startNode(t, Options{URL: url, Token: testToken, TLS: ca.node("b")}),
	}
	awaitCluster(t, nodes)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	noCA := ca.node("c")
	noCA.CA = ""
	b, err := Start(ctx, Options{URL: url, Token: testToken, TLS: noCA})
	if err == nil {
		b.Close()
		t.Fatal("a node that cannot check the server's certificate joined")
	}
}
