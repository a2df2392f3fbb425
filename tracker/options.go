package tracker

import (
	"io/fs"
	"log/slog"
	"runtime"
	"time"

	"tabswarm/static"
)

// Options configures a Tracker. The zero value of every field is a
// documented default, so Options{} is a working tracker.
type Options struct {
	// Logger receives request and connection logs. Nil discards them.
	Logger *slog.Logger
	// App is the web app served at /. Nil means static.FS. It is read once:
	// each file's bytes, gzip and ETag are computed on first request.
	App fs.FS

	// Bus joins this tracker to a cluster of trackers that act as one:
	// peers on different nodes find and signal each other, and the API
	// and dashboard show the whole cluster. Nil means alone, a node of
	// its own that talks to nothing (see tracker/natsbus for NATS).
	Bus Bus
	// ClusterTimeout bounds a request to another node: a relay, a query's
	// wait for holders, a stats gathering. Zero means 5s.
	ClusterTimeout time.Duration

	// MaxPeersPerReply bounds the peers in a query reply and in
	// /api/files. Zero means 50.
	MaxPeersPerReply int
	// MaxNotify bounds how many members of a swarm hear about a newcomer.
	// Zero means 50.
	MaxNotify int
	// MaxSwarmsPerPeer bounds the swarms one connection may be in. Zero
	// means 1000.
	MaxSwarmsPerPeer int
	// MaxSwarms bounds the swarms the tracker knows. Zero means 100000.
	MaxSwarms int
	// MaxManifestMemory bounds the bytes of all stored manifests together.
	// Zero means 512 MiB.
	MaxManifestMemory int64
	// MaxManifestMemoryPerIP and MaxManifestMemoryPerPeer bound the bytes
	// of the stored manifests that one client address and one connection
	// brought (each is charged while its swarm lives). Zero means
	// MaxManifestMemory/16 and /64.
	MaxManifestMemoryPerIP   int64
	MaxManifestMemoryPerPeer int64
	// BigFrameRate is the sustained rate, in bytes per second, at which a
	// connection's frames over 64 KiB are read (a burst of one largest
	// frame passes at once); MaxBigFrames bounds how many such frames the
	// tracker reads and handles at once, one per client address at a time.
	// Small frames never wait for big ones. Zero means 1 MiB/s and
	// GOMAXPROCS/2 (at least 1).
	BigFrameRate float64
	MaxBigFrames int
	// MaxPeers bounds concurrent WebSocket connections. Zero means 10000.
	MaxPeers int

	// MessageRate and MessageBurst are the token bucket each connection's
	// incoming messages pass: a sustained rate per second and a burst.
	// Zero means 50 and 200.
	MessageRate  float64
	MessageBurst int
	// SendQueue bounds the messages waiting to be written to one
	// connection; a peer that lets it fill is disconnected. Zero means 128.
	SendQueue int
	// SendQueueBytes bounds the bytes of those messages likewise. Zero
	// means 16 MiB (a few replies carrying the largest manifests).
	SendQueueBytes int
	// RelayQueueBytes bounds the bytes of signals from other peers waiting
	// in one connection's queue (with at most SendQueue/2 such messages).
	// A signal that finds no room is refused to its sender with
	// rate_limited, a strike against the sender; the addressee is not
	// charged. Zero means 256 KiB.
	RelayQueueBytes int
	// WriteTimeout bounds writing one frame; a peer slower than that is
	// disconnected. It also bounds each stall of an HTTP response: a
	// client that takes nothing of it for that long is cut. Zero means 10s.
	WriteTimeout time.Duration
	// PingInterval is how often an idle connection is pinged to detect a
	// vanished peer. Zero means 30s.
	PingInterval time.Duration

	// MaxConnsPerIP bounds the WebSocket connections from one client
	// address (an IPv6 client's whole /64). Every tab is a connection, and
	// peers behind one NAT share an address. Zero means 64.
	MaxConnsPerIP int
	// MaxPendingOffers bounds the offers one connection has relayed that
	// are still waiting for an answer. Zero means 256.
	MaxPendingOffers int
	// OfferTTL is how long a relayed offer can be answered. Zero means 2m.
	OfferTTL time.Duration
	// MaxStrikes is how many times a minute a connection may go over a
	// cap (message rate, frame size, swarms, pending offers) and only get
	// a typed error; past it, the error comes with a close (1008). Zero
	// means 20.
	MaxStrikes int

	// Token, when set, makes the tracker private: /ws, /api/* and /metrics
	// need it, as an "Authorization: Bearer" header or a "token" query
	// parameter, and answer 401 (code unauthorized) without it. The app,
	// /stats's page shell and /healthz stay open. Empty means open.
	Token string
	// AllowOrigins lists the page origins, besides the tracker's own host,
	// that may open /ws. Each is a case-insensitive path.Match pattern
	// against the Origin's host ("lan.example:8080", "*.example"), or
	// against scheme://host when it contains "://". A pattern that is not
	// a valid path.Match pattern matches nothing (CheckOriginPattern tells).
	// Requests without an Origin (native peers) are always allowed.
	AllowOrigins []string
	// Hosts lists the names the tracker answers to, as case-insensitive
	// path.Match patterns against the request's host, with or without its
	// port ("tracker.lan", "*.example:8080"). Besides them it answers to IP
	// addresses, localhost (and *.localhost) and the hosts AllowOrigins
	// names. A request whose Host header names anything else gets 421
	// (code forbidden_host): a page on an attacker's name that resolves to
	// the tracker (DNS rebinding) reaches nothing. Empty means only those.
	Hosts []string
	// ICEServers are the STUN and TURN servers /api/config gives pages.
	ICEServers []ICEServer
	// URLs are the addresses other devices open to reach this tracker (as
	// `tabswarm serve` prints them). /api/config gives them to pages, which
	// show them with a QR code. Nil: pages show only their own address.
	URLs []string

	// HTTPRate bounds plain HTTP requests per client address (an IPv6
	// client's /64) per minute; /ws is bounded by MaxConnsPerIP instead.
	// Zero means 1200.
	HTTPRate int
	// MaxStatsStreams bounds concurrent /api/stats/events streams. Zero
	// means 64.
	MaxStatsStreams int
	// MaxStatsStreamsPerIP bounds the streams of one client address. Zero
	// means MaxStatsStreams/8.
	MaxStatsStreamsPerIP int
	// StatsInterval is how often /api/stats/events sends. Zero means 2s.
	StatsInterval time.Duration
	// MaxStatsSwarms and MaxStatsPeers bound /api/stats and /stats: the
	// largest swarms are listed, each with up to MaxStatsPeers members.
	// Zero means 200 and 100.
	MaxStatsSwarms int
	MaxStatsPeers  int

	// RequestTimeout bounds plain HTTP requests (not /ws). Zero means 60s.
	RequestTimeout time.Duration
	// MaxConcurrentRequests bounds plain HTTP requests in flight (not /ws).
	// Zero means 256.
	MaxConcurrentRequests int
	// MaxRequestsPerIP bounds the plain HTTP requests in flight from one
	// client address, so that one address cannot hold every slot. Zero
	// means MaxConcurrentRequests/4.
	MaxRequestsPerIP int
	// ReadTimeout bounds reading a request, headers and body, from the
	// handler's start; it covers /ws until the upgrade. Zero means 10s.
	// (WriteTimeout bounds each stall of a response.)
	ReadTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.App == nil {
		o.App = static.FS
	}
	setDefault(&o.ClusterTimeout, 5*time.Second)
	setDefault(&o.MaxPeersPerReply, 50)
	setDefault(&o.MaxNotify, 50)
	setDefault(&o.MaxSwarmsPerPeer, 1000)
	setDefault(&o.MaxSwarms, 100000)
	setDefault(&o.MaxManifestMemory, 512<<20)
	setDefault(&o.MaxManifestMemoryPerIP, o.MaxManifestMemory/16)
	setDefault(&o.MaxManifestMemoryPerPeer, o.MaxManifestMemory/64)
	setDefault(&o.BigFrameRate, 1<<20)
	setDefault(&o.MaxBigFrames, max(1, runtime.GOMAXPROCS(0)/2))
	setDefault(&o.MaxPeers, 10000)
	setDefault(&o.MessageRate, 50)
	setDefault(&o.MessageBurst, 200)
	setDefault(&o.SendQueue, 128)
	setDefault(&o.SendQueueBytes, 16<<20)
	setDefault(&o.RelayQueueBytes, 256<<10)
	setDefault(&o.WriteTimeout, 10*time.Second)
	setDefault(&o.PingInterval, 30*time.Second)
	setDefault(&o.MaxConnsPerIP, 64)
	setDefault(&o.MaxPendingOffers, 256)
	setDefault(&o.OfferTTL, 2*time.Minute)
	setDefault(&o.MaxStrikes, 20)
	setDefault(&o.HTTPRate, 1200)
	setDefault(&o.MaxStatsStreams, 64)
	setDefault(&o.StatsInterval, 2*time.Second)
	setDefault(&o.MaxStatsSwarms, 200)
	setDefault(&o.MaxStatsPeers, 100)
	setDefault(&o.RequestTimeout, 60*time.Second)
	setDefault(&o.MaxConcurrentRequests, 256)
	setDefault(&o.MaxRequestsPerIP, o.MaxConcurrentRequests/4)
	setDefault(&o.MaxStatsStreamsPerIP, o.MaxStatsStreams/8)
	setDefault(&o.ReadTimeout, 10*time.Second)
	return o
}

func setDefault[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
