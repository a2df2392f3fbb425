package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// balancer is the test's load balancer: a reverse proxy on 127.0.0.1 that
// sends each request to the next live node, round robin, with no sticky
// sessions. WebSocket upgrades take turns of their own, so that tabs opened
// one after another land on node after node whatever else they load. A
// node whose process exited is skipped, and so is one that refuses the
// connection: the request goes on to the next.
type balancer struct {
	addr  string // host:port on 127.0.0.1
	nodes []*clusterNode

	transport *http.Transport
	stop      func() // closes the listener and idle connections; idempotent

	mu     sync.Mutex
	next   int // the next node for plain HTTP
	nextWS int // the next node for a WebSocket upgrade
}

// startBalancer serves a balancer over nodes until tb ends.
func startBalancer(tb testing.TB, nodes []*clusterNode) *balancer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &balancer{addr: ln.Addr().String(), nodes: nodes, transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.stop = sync.OnceFunc(func() {
		srv.Close()
		b.transport.CloseIdleConnections()
	})
	tb.Cleanup(b.stop)
	return b
}

// pick returns the next live node in its turn, or nil when none is left
// that tried does not hold.
func (b *balancer) pick(ws bool, tried map[*clusterNode]bool) *clusterNode {
	b.mu.Lock()
	defer b.mu.Unlock()
	turn := &b.next
	if ws {
		turn = &b.nextWS
	}
	for range b.nodes {
		n := b.nodes[*turn%len(b.nodes)]
		*turn++
		if n.alive() && !tried[n] {
			return n
		}
	}
	return nil
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	tried := map[*clusterNode]bool{}
	for {
		n := b.pick(ws, tried)
		if n == nil {
			http.Error(w, "balancer: no live node", http.StatusBadGateway)
			return
		}
		tried[n] = true
		refused := false
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(&url.URL{Scheme: "http", Host: n.addr})
				pr.Out.Host = pr.In.Host // the page's origin stays the tracker's host
			},
			Transport: b.transport,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				var op *net.OpError
				if errors.As(err, &op) && op.Op == "dial" {
					refused = true // nothing was sent: try the next node
					return
				}
				if r.Context().Err() == nil {
					http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
				}
			},
		}
		rp.ServeHTTP(w, r)
		if !refused {
			return
		}
	}
}

// base returns the app's URL through the balancer, under the name the
// browser maps to 127.0.0.1.
func (b *balancer) base() string {
	_, port, _ := net.SplitHostPort(b.addr)
	return fmt.Sprintf("http://%s:%s", appHost, port)
}
