package main

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"
)

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeCluster: two serve commands with the cluster flags form one
// cluster, which each one's statistics count.
func TestServeCluster(t *testing.T) {
	first, second := freePort(t), freePort(t)
	common := []string{"--addr", "127.0.0.1:0", "--log-level", "error", "--cluster-name", "test", "--cluster-token", "cluster-secret"}
	a := startServe(t, append(common, "--cluster-listen", first)...)
	b := startServe(t, append(common, "--cluster-listen", second, "--cluster-routes", "nats-route://"+first)...)
	for _, base := range []string{a, b} {
		deadline := time.Now().Add(20 * time.Second)
		for nodes := 0; nodes != 2; {
			resp, err := http.Get(base + "/api/stats")
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Nodes int `json:"nodes"`
			}
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			nodes = st.Nodes
			if nodes != 2 && time.Now().After(deadline) {
				t.Fatalf("%s counts %d nodes after 20s, want 2", base, nodes)
			}
		}
	}
}
