package tracker

import (
	"io/fs"
	"log/slog"
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
	// WriteTimeout bounds writing one frame; a peer slower than that is
	// disconnected. Zero means 10s.
	WriteTimeout time.Duration
	// PingInterval is how often an idle connection is pinged to detect a
	// vanished peer. Zero means 30s.
	PingInterval time.Duration

	// RequestTimeout bounds plain HTTP requests (not /ws). Zero means 60s.
	RequestTimeout time.Duration
	// MaxConcurrentRequests bounds plain HTTP requests in flight (not /ws).
	// Zero means 256.
	MaxConcurrentRequests int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.App == nil {
		o.App = static.FS
	}
	setDefault(&o.MaxPeersPerReply, 50)
	setDefault(&o.MaxNotify, 50)
	setDefault(&o.MaxSwarmsPerPeer, 1000)
	setDefault(&o.MaxSwarms, 100000)
	setDefault(&o.MaxManifestMemory, 512<<20)
	setDefault(&o.MaxPeers, 10000)
	setDefault(&o.MessageRate, 50)
	setDefault(&o.MessageBurst, 200)
	setDefault(&o.SendQueue, 128)
	setDefault(&o.WriteTimeout, 10*time.Second)
	setDefault(&o.PingInterval, 30*time.Second)
	setDefault(&o.RequestTimeout, 60*time.Second)
	setDefault(&o.MaxConcurrentRequests, 256)
	return o
}

func setDefault[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
