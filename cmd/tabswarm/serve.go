package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"tabswarm/tracker"
	"tabswarm/tracker/natsbus"
)

// serveHelp introduces `tabswarm serve -h`.
const serveHelp = `usage: tabswarm serve [flags]

Runs the tracker and serves the web app. Open the printed URL on every
device of the network; files go browser to browser, never through here.

Every flag can also come from the environment variable named below it
(the command line wins). Repeatable flags take comma-separated lists there.
Prefer TABSWARM_TOKEN to --token: command lines are visible to other users.

Pages:
  /          the app            /stats      live dashboard
  /healthz   health check       /metrics    Prometheus metrics (token if private)
  /qr.svg?text=T                a QR code of T
  /api/config, /api/stats, /api/stats/events, /api/stats/history,
  /api/files/DIGEST             JSON
  /ws        signalling WebSocket

flags:
`

// serveConfig is the parsed command line of serve.
type serveConfig struct {
	addr    string
	share   string // a folder to seed from this process, or ""
	level   slog.Level
	tls     *tls.Config // nil: plain HTTP
	options tracker.Options
	cluster *natsbus.Options // nil: alone
}

// serve runs the tracker until ctx is done.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.level}))
	cfg.options.Logger = log

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	urls, err := openURLs(ln.Addr())
	if err != nil {
		log.Warn("listing network interfaces", "err", err)
	}
	if cfg.tls != nil {
		ln = tls.NewListener(ln, cfg.tls)
		for i, u := range urls {
			urls[i] = "https://" + strings.TrimPrefix(u, "http://")
		}
	}
	printURLs(stdout, urls, cfg.options.Token != "")
	cfg.options.URLs = urls
	if cfg.cluster != nil {
		cfg.cluster.Logger = log
		bus, err := natsbus.Start(ctx, *cfg.cluster)
		if err != nil {
			ln.Close()
			return fmt.Errorf("joining the cluster: %w", err)
		}
		defer bus.Close() // after the tracker, which uses it until it ends
		cfg.options.Bus = bus
		log.Info("cluster: joined", "node", bus.NodeID(), "cluster", cfg.cluster.ClusterName, "routes_from", bus.ClusterAddr(), "nats_url", cfg.cluster.URL)
	}
	if cfg.share != "" {
		stop, err := startSharing(ctx, cfg.share, ln.Addr(), cfg.options.Token, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	return tracker.New(cfg.options).Serve(ctx, ln)
}

// parseServe parses serve's flags and environment. A bad one prints why
// and the usage to stderr and returns errUsage; -h prints the help to
// stdout and returns errHelp.
func parseServe(args []string, stdout, stderr io.Writer) (*serveConfig, error) {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	var out bytes.Buffer // the flag package's complaints and usage
	fl.SetOutput(&out)
	cfg := &serveConfig{}
	o := &cfg.options
	addr := fl.String("addr", ":8080", "`address` to listen on (host:port; port 0 picks a free one)")
	level := fl.String("log-level", "info", "log `level`: debug (logs every request), info, warn or error")
	fl.StringVar(&cfg.share, "share", "", "also seed the files directly in this `folder` from this process\n(as tabswarm seed does)")
	fl.StringVar(&o.Token, "token", "", "make the tracker private: pages and peers need this `token` for /ws and /api\n(pages ask once and remember it; native peers pass it along)")
	origins := &listFlag{split: true}
	fl.Var(origins, "allow-origin", "also let pages from this `origin` open /ws (repeatable; a host[:port]\npattern like \"*.lan:8080\", or scheme://host; the tracker's own host always may)")
	hosts := &listFlag{split: true}
	fl.Var(hosts, "host", "a `name` the tracker answers to (repeatable; a pattern like \"*.lan\"): requests\nnaming another host are refused, against DNS rebinding; IP addresses,\nlocalhost, this machine's hostname and the certificate's names always work")
	certFile := fl.String("tls-cert", "", "serve HTTPS with this PEM certificate `file` (needs --tls-key); pages then\nget crypto.subtle and hash faster")
	keyFile := fl.String("tls-key", "", "PEM private key `file` for --tls-cert")
	ice := &listFlag{}
	fl.Var(ice, "ice-server", "a STUN or TURN `server` pages use when peers are not on one LAN (repeatable):\nstun:HOST[:PORT] or USER:CREDENTIAL@turn:HOST[:PORT][?transport=tcp]")
	cl := &natsbus.Options{}
	fl.StringVar(&cl.ClusterListen, "cluster-listen", "", "run as a node of a cluster of trackers: embed a NATS server that takes\nroutes from the other nodes on this `host:port` (needs --cluster-token)")
	routes := &listFlag{split: true}
	fl.Var(routes, "cluster-routes", "the other nodes' route `URLs`, nats-route://HOST:PORT, comma-separated")
	fl.StringVar(&cl.ClusterName, "cluster-name", "tabswarm", "the cluster's `name`, the same on every node")
	fl.StringVar(&cl.Token, "cluster-token", "", "the cluster's shared `secret`: routes between nodes need it (prefer the\nenvironment variable); with --nats-url, the NATS token")
	fl.StringVar(&cl.TLS.Cert, "cluster-tls-cert", "", "TLS between nodes: this node's PEM certificate `file` (needs --cluster-tls-key;\nembedded, also --cluster-tls-ca, and it names the node's route address);\nwith --nats-url, the client certificate")
	fl.StringVar(&cl.TLS.Key, "cluster-tls-key", "", "PEM private key `file` for --cluster-tls-cert")
	fl.StringVar(&cl.TLS.CA, "cluster-tls-ca", "", "PEM `file` of the CA that signs the nodes' certificates (embedded: every\nroute is mutual TLS) or, with --nats-url, the NATS servers'")
	fl.StringVar(&cl.URL, "nats-url", "", "join the cluster through this NATS deployment (`nats://HOST:PORT`) instead of\nembedding a NATS server")
	fl.IntVar(&o.MaxPeers, "max-peers", 10000, "most WebSocket connections at once (`n`)")
	fl.IntVar(&o.MaxConnsPerIP, "max-conns-per-ip", 64, "most WebSocket connections from one address (`n`; every tab is one)")
	fl.IntVar(&o.HTTPRate, "http-rate", 1200, "most plain HTTP requests per minute from one address (`n`)")
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), serveHelp)
		printFlags(fl.Output(), fl)
	}
	usageErr := func(format string, a ...any) (*serveConfig, error) {
		fmt.Fprintf(stderr, "tabswarm serve: "+format+"\n", a...)
		return nil, errUsage
	}
	if err := applyEnv(fl, getenv); err != nil {
		return usageErr("%v", err)
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			stdout.Write(out.Bytes())
			return nil, errHelp
		}
		stderr.Write(out.Bytes())
		return nil, errUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "tabswarm serve: unexpected argument %q\n", fl.Arg(0))
		fl.SetOutput(stderr)
		fl.Usage()
		return nil, errUsage
	}
	cfg.addr = *addr
	cl.Routes = routes.vals
	switch {
	case cl.URL != "" && cl.ClusterListen != "":
		return usageErr("--nats-url and --cluster-listen exclude each other: join a NATS deployment or embed a server")
	case cl.URL == "" && cl.ClusterListen == "" && (len(cl.Routes) > 0 || cl.Token != "" || cl.TLS != natsbus.TLSFiles{}):
		return usageErr("--cluster-routes, --cluster-token and --cluster-tls-* need --cluster-listen (or --nats-url)")
	case (cl.TLS.Cert == "") != (cl.TLS.Key == ""):
		return usageErr("--cluster-tls-cert and --cluster-tls-key go together")
	case cl.ClusterListen != "" && cl.TLS != natsbus.TLSFiles{} && (cl.TLS.Cert == "" || cl.TLS.CA == ""):
		return usageErr("TLS between embedded nodes needs --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca")
	case cl.ClusterListen != "" && cl.Token == "":
		return usageErr("--cluster-listen needs --cluster-token (or TABSWARM_CLUSTER_TOKEN): routes are accepted only with it")
	case cl.URL != "" || cl.ClusterListen != "":
		cfg.cluster = cl
	}
	if err := cfg.level.UnmarshalText([]byte(*level)); err != nil {
		return usageErr("bad --log-level %q", *level)
	}
	for _, p := range origins.vals {
		if err := tracker.CheckOriginPattern(p); err != nil {
			return usageErr("--allow-origin: %v", err)
		}
	}
	o.AllowOrigins = origins.vals
	o.Hosts = append(hosts.vals, ownNames()...)
	for _, s := range ice.vals {
		srv, err := tracker.ParseICEServer(s)
		if err != nil {
			return usageErr("--ice-server: %v", err)
		}
		o.ICEServers = append(o.ICEServers, srv)
	}
	if o.MaxPeers < 1 || o.MaxConnsPerIP < 1 || o.HTTPRate < 1 {
		return usageErr("--max-peers, --max-conns-per-ip and --http-rate must be at least 1")
	}
	switch {
	case (*certFile == "") != (*keyFile == ""):
		return usageErr("--tls-cert and --tls-key go together")
	case *certFile != "" && cfg.share != "":
		// The sharing peer dials its own tracker on loopback, where the
		// certificate's names do not apply.
		return usageErr("--share does not work with --tls-cert yet: run tabswarm seed against the https URL instead")
	case *certFile != "":
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return usageErr("loading the TLS certificate: %v", err)
		}
		if cert.Leaf != nil {
			o.Hosts = append(o.Hosts, cert.Leaf.DNSNames...)
		}
		cfg.tls = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"}, // WebSockets upgrade over HTTP/1.1
		}
	}
	return cfg, nil
}

// ownNames returns this machine's hostname and its .local (mDNS) form,
// names a LAN reaches the tracker by without any --host.
func ownNames() []string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return nil
	}
	return []string{name, name + ".local"}
}
