package tracker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// Bus carries what crosses the nodes of a cluster of trackers. Each node's
// registry stays the one owner of its own peers and swarms; the bus only
// moves requests between nodes and their replies. Payloads are opaque to
// the bus: the tracker encodes and decodes them (cluster.go).
//
// The zero Options.Bus is the solo bus: one node, nothing crosses. A NATS
// implementation lives in tracker/natsbus.
type Bus interface {
	// NodeID names this node: NodeIDLen lowercase hex digits, random for
	// each process, so that the peer IDs of a node that restarted never
	// reach the new process. It ends every peer ID of the node.
	NodeID() string
	// Attach hands the bus the node that serves other nodes' requests.
	// New calls it once, before serving; a bus drops requests that arrive
	// before it.
	Attach(n BusNode)
	// Relay delivers req to node's ServeRelay and returns its reply. A
	// node that does not exist (any more) is ErrNoNode.
	Relay(ctx context.Context, node string, req []byte) ([]byte, error)
	// Send delivers req to node's ServeRelay without waiting for it.
	// Nothing comes back when the node delivers it; when the node refuses
	// it, refused gets the refusal (ServeRelay's reply) later, once, and
	// when the node does not exist (any more) it gets an error wrapping
	// ErrNoNode. Either may be lost, like req itself, when the bus drops
	// messages. An error from Send means nothing was sent.
	Send(node string, req []byte, refused func(reply []byte, err error)) error
	// AskSwarm asks the other nodes with members in d's swarm (ServeSwarm)
	// and returns the replies that arrive within the bus's bounded wait.
	AskSwarm(ctx context.Context, d swarm.Hash, req []byte) ([][]byte, error)
	// AskAll asks every other node (ServeAll), like AskSwarm.
	AskAll(ctx context.Context, req []byte) ([][]byte, error)
	// Notify tells the other nodes with members in d's swarm msg
	// (ServeNotice), without waiting.
	Notify(d swarm.Hash, msg []byte)
	// Interest says whether this node has members in d's swarm, so that
	// AskSwarm and Notify about d reach it. It is called with the
	// registry's lock held, in order: it must not block or call back.
	Interest(d swarm.Hash, on bool)
}

// BusNode is what a tracker serves to the other nodes of its cluster.
type BusNode interface {
	// ServeRelay delivers a relayed signal to a peer of this node.
	ServeRelay(req []byte) []byte
	// ServeSwarm answers a question about d's swarm; ok false means no
	// reply (this node has nothing to say).
	ServeSwarm(d swarm.Hash, req []byte) (reply []byte, ok bool)
	// ServeAll answers a question to every node.
	ServeAll(req []byte) []byte
	// ServeNotice tells this node's members of d's swarm about a newcomer.
	ServeNotice(d swarm.Hash, msg []byte)
}

// MaxBusMessage is the largest message a Bus must carry: a reply with
// the largest manifest the tracker accepts (it came in one frame of
// signaling.MaxMessageBytes) and a reply's worth of holders, or a relayed
// signal of that size. A NATS server must take payloads this large.
const MaxBusMessage = signaling.MaxMessageBytes + 256<<10

// NodeIDLen is the length of a node ID and of the suffix of every peer ID
// that names its node.
const NodeIDLen = 8

// NewNodeID returns a random node ID.
func NewNodeID() string {
	var b [NodeIDLen / 2]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// peerNode returns the node ID a peer ID ends with, or "" for an ID of
// another shape.
func peerNode(id string) string {
	if len(id) != peerIDLen {
		return ""
	}
	return id[peerIDLen-NodeIDLen:]
}

// soloBus is the bus of a tracker alone: no other node exists.
type soloBus struct{ node string }

var _ Bus = soloBus{}

func (b soloBus) NodeID() string { return b.node }
func (soloBus) Attach(BusNode)   {}
func (soloBus) Relay(_ context.Context, node string, _ []byte) ([]byte, error) {
	return nil, fmt.Errorf("%w: %s", ErrNoNode, node)
}
func (soloBus) Send(node string, _ []byte, _ func([]byte, error)) error {
	return fmt.Errorf("%w: %s", ErrNoNode, node)
}
func (soloBus) AskSwarm(context.Context, swarm.Hash, []byte) ([][]byte, error) { return nil, nil }
func (soloBus) AskAll(context.Context, []byte) ([][]byte, error)               { return nil, nil }
func (soloBus) Notify(swarm.Hash, []byte)                                      {}
func (soloBus) Interest(swarm.Hash, bool)                                      {}
