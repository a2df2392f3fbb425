package natsbus

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"tabswarm/tracker"
)

// routeUser is the user name of routes; the cluster token is the password.
const routeUser = "tabswarm"

// routeTLSTimeout bounds a route's TLS handshake.
const routeTLSTimeout = 5 * time.Second

// startServer starts the embedded NATS server of node: routes on
// o.ClusterListen with the token, and TLS when o.TLS says so. The tracker
// connects in process; the server still needs a client port for its
// routes to start (nats-server starts routing once its client listener is
// up), so it gets a random one on loopback, closed to clients without the
// token too.
func startServer(o Options, node string) (*server.Server, error) {
	if o.Token == "" {
		return nil, fmt.Errorf("%w: an embedded cluster needs a cluster token: routes are accepted only with it", ErrConfig)
	}
	host, portStr, err := net.SplitHostPort(o.ClusterListen)
	if err != nil {
		return nil, fmt.Errorf("%w: cluster listen address %q: %v", ErrConfig, o.ClusterListen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("%w: cluster listen port %q", ErrConfig, portStr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	routes := make([]*url.URL, 0, len(o.Routes))
	for _, r := range o.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "nats-route" || u.Host == "" {
			return nil, fmt.Errorf("%w: route %q: want nats-route://host:port", ErrConfig, r)
		}
		u.User = url.UserPassword(routeUser, o.Token)
		routes = append(routes, u)
	}
	cluster := server.ClusterOpts{
		Name:     o.ClusterName,
		Host:     host,
		Port:     port,
		Username: routeUser,
		Password: o.Token,
	}
	if o.TLS.set() {
		if o.TLS.Cert == "" || o.TLS.Key == "" || o.TLS.CA == "" {
			return nil, fmt.Errorf("%w: TLS between embedded nodes needs this node's certificate, its key and the CA that signs the nodes' certificates", ErrConfig)
		}
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLS.Cert, KeyFile: o.TLS.Key, CaFile: o.TLS.CA, Verify: true})
		if err != nil {
			return nil, fmt.Errorf("%w: cluster TLS: %v", ErrConfig, err)
		}
		// A node both dials routes and takes them: the CA checks both
		// ends, as nats-server's own cluster configuration does.
		tc.ClientAuth, tc.RootCAs = tls.RequireAndVerifyClientCert, tc.ClientCAs
		cluster.TLSConfig, cluster.TLSTimeout = tc, routeTLSTimeout.Seconds()
	}
	s, err := server.NewServer(&server.Options{
		ServerName:    "tabswarm-" + node,
		Host:          "127.0.0.1",
		Port:          server.RANDOM_PORT,
		Authorization: o.Token,
		NoSigs:        true,
		MaxPayload:    tracker.MaxBusMessage,
		Cluster:       cluster,
		Routes:        routes,
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: embedded NATS server: %w", err)
	}
	s.SetLoggerV2(newServerLog(o.Logger, time.Now), false, false, false)
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("natsbus: embedded NATS server not ready after 10s (cluster address %s)", o.ClusterListen)
	}
	return s, nil
}
