package natsbus

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tabswarm/tracker"
)

// natsServerBin finds Debian's nats-server; CI installs it (.ci/run).
func natsServerBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nats-server is not installed (.ci/run installs it)")
	}
	t.Skip("nats-server is not installed (apt-get install nats-server)")
	return ""
}

// startNATSServer runs an external nats-server on a free loopback port
// with the cluster token as its client token, the given max payload and
// any more configuration, and returns its URL once it says it is ready.
func startNATSServer(t *testing.T, maxPayload int, more ...string) string {
	t.Helper()
	bin := natsServerBin(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(t.TempDir(), "nats.conf")
	body := fmt.Sprintf("listen: %q\nmax_payload: %d\nauthorization {\n  token: %q\n}\n", addr, maxPayload, testToken) + strings.Join(more, "")
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Server is ready") {
				ready <- nil
				break
			}
		}
		if sc.Err() != nil {
			ready <- sc.Err()
		}
		for sc.Scan() { // keep the pipe drained
		}
		ready <- errors.New("nats-server ended")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("nats-server: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nats-server not ready after 20s")
	}
	return "nats://" + addr
}

// TestExternalNATS runs the cluster suite on three trackers that join one
// real nats-server through its URL, as --nats-url does.
func TestExternalNATS(t *testing.T) {
	url := startNATSServer(t, tracker.MaxBusMessage)
	clusterSuite(t, func(t *testing.T) []*node {
		nodes := make([]*node, 3)
		for i := range nodes {
			nodes[i] = startNode(t, Options{URL: url, Token: testToken})
		}
		awaitCluster(t, nodes)
		return nodes
	})
}

// TestMaxPayloadTooSmall: a NATS server with the default 1 MB max payload
// cannot carry the largest manifest, and Start says so.
func TestMaxPayloadTooSmall(t *testing.T) {
	url := startNATSServer(t, 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{URL: url, Token: testToken})
	if err == nil {
		b.Close()
	}
	if !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), "max_payload") {
		t.Fatalf("Start on a 1 MB server: %v, want ErrPayload naming max_payload", err)
	}
}
