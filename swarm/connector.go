package swarm

import "context"

// A Connector finds peers and opens connections to them; the engine (Node)
// speaks the wire protocol over the Transports it produces. The tracker and
// WebRTC connector is package swarm/rtc; the engine never sees either.
//
// The split follows syncthing's lib/connections and lib/protocol and
// anacrolix/torrent's webtorrent OnConn: whoever dials hands finished
// connections to whoever speaks the protocol.
type Connector interface {
	// Run connects and serves until ctx ends, telling h about peers and
	// handing it the connections remote peers open. It returns once every
	// goroutine it started has ended.
	Run(ctx context.Context, h Handler) error
	// PeerID returns this peer's ID, or "" while it is not connected.
	PeerID() string
	// WaitConnected blocks until the connector is connected.
	WaitConnected(ctx context.Context) error
	// Query asks for the manifest of d (JSON, unchecked) and the peers
	// holding d. An error wrapping ErrNoPeers means nobody holds it.
	Query(ctx context.Context, d Hash) (manifest []byte, peers []string, err error)
	// Announce tells the others what this peer holds of one file.
	Announce(ctx context.Context, a Announcement) error
	// Leave says this peer no longer holds d.
	Leave(ctx context.Context, d Hash)
	// Dial opens a connection to peer for file d. It blocks until the
	// connection is open or has failed.
	Dial(ctx context.Context, d Hash, peer string) (Conn, error)
}

// Handler is what a Connector tells the engine. Found, Accept and Incoming
// must not block; Connected runs in its own goroutine and may.
type Handler interface {
	// Connected is called after each (re)connection, under the new peer
	// ID; the engine announces every file again. ctx ends when that
	// connection drops.
	Connected(ctx context.Context)
	// Found names peers that hold some of file d.
	Found(d Hash, peers []string)
	// Accept reports whether an incoming connection from peer for file d is
	// wanted, before anything is set up for it.
	Accept(d Hash, peer string) bool
	// Incoming hands over an open connection a remote peer started. The
	// engine owns c.Transport from then on.
	Incoming(c Conn)
}

// Conn is an open connection to a remote peer for one file.
type Conn struct {
	Digest    Hash
	Peer      string // the remote peer's ID
	Initiator string // the ID of the peer that dialled
	// Session names the connection, the same at both ends. Of two
	// connections one peer opened, the later has the greater Session
	// (compared as strings): both ends keep that one.
	Session   string
	Transport Transport
}

// Announcement is what a peer tells the tracker about one file.
type Announcement struct {
	Digest Hash
	// P2T is the file's manifest or the collection, as JSON: set on its
	// first announce after a (re)connection.
	P2T      []byte
	Have     int // chunks held, or a collection's files
	Complete bool
	// Uploaded and Downloaded are payload bytes sent and received.
	Uploaded, Downloaded int64
}
