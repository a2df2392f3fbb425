package natsbus

import (
	"log/slog"
	"time"
)

// Options configures a Bus. Either URL or ClusterListen must be set.
type Options struct {
	// URL joins an existing NATS deployment (nats://host:port, several
	// comma-separated). Empty embeds a NATS server instead.
	URL string
	// ClusterListen is the host:port the embedded server takes routes
	// from the other nodes on (port 0 picks a free one).
	ClusterListen string
	// Routes are the other nodes' route URLs, nats-route://host:port.
	// Credentials for the cluster token are added; leave them out.
	Routes []string
	// ClusterName names the cluster, the same on every node: the embedded
	// servers' cluster name and the prefix of every subject. A subject
	// token: letters, digits, '-' and '_'. Empty means "tabswarm".
	ClusterName string
	// Token is the shared cluster secret. The embedded server accepts
	// routes only with it, and dials routes with it; it is then required.
	// With URL it is the NATS client token, when set.
	Token string
	// TLS secures the links between nodes with certificates, beside the
	// token. Embedded, every route is mutual TLS: each node presents
	// TLS.Cert, and checks the other's against TLS.CA and against the
	// host it dialled (so a certificate names its node's route address);
	// all three files are needed. With URL, TLS.CA checks the NATS
	// server's certificate and TLS.Cert, when set, is this node's client
	// certificate. The zero TLSFiles means plain TCP: enough on a
	// network the operators trust, not otherwise.
	TLS TLSFiles
	// Wait bounds how long a question to other nodes (holders of a file,
	// statistics) waits for their answers. Zero means 50ms.
	Wait time.Duration
	// Logger receives the embedded server's warnings and the bus's own.
	// Nil discards them.
	Logger *slog.Logger
}

// TLSFiles names PEM files for TLS between nodes.
type TLSFiles struct {
	Cert, Key string // this node's certificate (chain) and its private key
	CA        string // the certificates that sign the other side's
}

func (t TLSFiles) set() bool { return t != TLSFiles{} }

func (o Options) withDefaults() Options {
	if o.ClusterName == "" {
		o.ClusterName = "tabswarm"
	}
	if o.Wait <= 0 {
		o.Wait = 50 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
