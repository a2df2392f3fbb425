// Package signaling holds the messages that peers and the tracker exchange
// over the tracker's WebSocket, and the Client a peer dials with.
//
// Every message is one JSON object in one WebSocket text frame, with a Type.
// A peer's request may carry a nonzero ID; the tracker then answers it with
// exactly one message carrying the same ID: the reply named below for its
// type, or an Error. Messages the tracker sends on its own have ID 0.
//
// A request with ID 0 gets no TypeOK, but still gets an Error (with ID 0)
// when it is bad. The tracker rejects unknown fields and trailing data; an
// error changes no tracker state.
//
// On js/wasm the Client uses the browser's WebSocket (through
// github.com/coder/websocket), which has no custom headers and reports
// little about why a dial failed.
//
// The package compiles for native targets and for js/wasm.
package signaling

import "encoding/json"

// Type names a message.
type Type string

// The message types.
const (
	// TypeWelcome (tracker → peer) is the first message on a connection and
	// carries the peer ID the tracker assigned in PeerID.
	TypeWelcome Type = "welcome"
	// TypeAnnounce (peer → tracker) says the peer holds some or all of
	// Digest: Have chunks, Complete when it holds all. Manifest must be set
	// when the tracker does not know the file yet; it may always be set.
	// Reply: TypeOK.
	//
	// Announcing again updates Have and Complete. Without a Manifest for an
	// unknown file the error is CodeUnknownFile: announce again with it.
	//
	// Uploaded and Downloaded, both optional, report the bytes of this
	// file's chunks the peer has sent and received over data channels:
	// running totals that never decrease for as long as the peer holds the
	// file (a tab keeps them across tracker reconnects). The tracker counts
	// only what they grow by after its first sight of them on a connection,
	// so reconnecting never counts bytes twice; a smaller value than before
	// starts a new count. They feed the tracker's statistics only.
	TypeAnnounce Type = "announce"
	// TypeLeave (peer → tracker) says the peer no longer holds Digest.
	// Reply: TypeOK.
	TypeLeave Type = "leave"
	// TypeQuery (peer → tracker) asks who holds Digest. Reply: TypePeers.
	//
	// A successful query also makes the asker a member of the swarm, as a
	// leecher with nothing yet, so that it may signal the peers it was
	// given before its own announce arrives. Such a member counts toward
	// the swarms-per-connection cap, is told about newcomers, and is not
	// listed as a holder until it announces. Leave ends it as it ends an
	// announce; on a single tracker the membership also ends when the last
	// holder goes (in a cluster of trackers, whose holders may be on other
	// nodes, it lasts until leave or disconnect, and a query then lists no
	// peers).
	TypeQuery Type = "query"
	// TypePeers (tracker → peer) answers a query with the file's Manifest
	// and a subset of the peers that hold it, never the asker. With ID 0 it
	// tells the members of a swarm about a newcomer.
	//
	// A newcomer notice carries Digest and one PeerInfo, no Manifest. It
	// goes to members that are not complete (at most 50 by default) when a
	// peer first announces the digest and when it first announces Complete;
	// progress updates are not news.
	TypePeers Type = "peers"
	// TypeSignal (peer → tracker → peer) carries WebRTC session set-up To
	// another peer. The tracker fills in From and relays it; it reads only
	// To, Digest and the Signal's Kind and Session, never the SDP.
	//
	// It needs To, Digest and a Signal with a known Kind and a Session of 1
	// to MaxSessionLen bytes. Reply: TypeOK when ID is nonzero. The
	// addressee gets the message with ID 0 and PeerID cleared.
	//
	// Relaying is restricted:
	//   - An offer or a close goes only to a peer that shares the swarm
	//     Digest names with the sender: both have announced or queried it.
	//     Otherwise the error is CodeNotInSwarm.
	//   - An answer goes only back to the peer whose offer it answers: the
	//     tracker remembers each relayed offer (From, To, Session, Digest)
	//     for a while (two minutes by default), and an answer from its To,
	//     with its Session and Digest, is relayed once. Any other answer
	//     gets CodeNoOffer.
	//   - A peer may have a bounded number of offers waiting for an answer
	//     (256 by default); past it the error is CodeRateLimited.
	//
	// In a cluster of trackers, a signal with ID 0 to a peer on another
	// node is not waited for: a refusal from that node comes later, as an
	// error with ID 0, and the signal changed nothing.
	TypeSignal Type = "signal"
	// TypeHello (peer → tracker) sets the Name others see for this peer
	// (pages and the dashboard show it instead of the peer ID). It lasts
	// as long as the connection, so a peer says hello again after each
	// welcome. The tracker keeps CleanName's result; a name CleanName
	// refuses gets CodeBadMessage and leaves the old name. An empty Name
	// clears it. Reply: TypeOK.
	TypeHello Type = "hello"
	// TypeOK (tracker → peer) acknowledges a request.
	TypeOK Type = "ok"
	// TypeError (tracker → peer) reports a bad request in Error.
	TypeError Type = "error"
)

// Message is the one envelope for every type; fields a type does not use are
// left empty.
type Message struct {
	Type   Type   `json:"type"`
	ID     uint64 `json:"id,omitempty"`
	PeerID string `json:"peer_id,omitempty"`
	// Name is a hello's peer name; see TypeHello.
	Name     string          `json:"name,omitempty"`
	Digest   string          `json:"digest,omitempty"`
	Manifest json.RawMessage `json:"manifest,omitempty"`
	Have     int             `json:"have,omitempty"`
	Complete bool            `json:"complete,omitempty"`
	// Uploaded and Downloaded are an announce's optional byte counters; see
	// TypeAnnounce.
	Uploaded   int64      `json:"uploaded,omitempty"`
	Downloaded int64      `json:"downloaded,omitempty"`
	Peers      []PeerInfo `json:"peers,omitempty"`
	To         string     `json:"to,omitempty"`
	From       string     `json:"from,omitempty"`
	Signal     *Signal    `json:"signal,omitempty"`
	Error      *Error     `json:"error,omitempty"`
}

// PeerInfo describes one member of a swarm.
type PeerInfo struct {
	ID       string `json:"id"`
	Have     int    `json:"have"`
	Complete bool   `json:"complete"`
}

// SignalKind names a step of WebRTC session set-up.
type SignalKind string

// MaxSessionLen bounds a Signal's Session.
const MaxSessionLen = 64

// MaxSDPBytes bounds a Signal's SDP; the tracker refuses a longer one with
// CodeTooLarge. A data-channel offer from pion with four host candidates is
// about 900 bytes, each further candidate about 100 to 150 (Chromium's,
// with mDNS names and network costs, are the longest): 32 KiB holds some
// two hundred candidates.
const MaxSDPBytes = 32 << 10

// The signal kinds. Candidates travel inside the SDP (ICE gathering finishes
// before an offer or answer is sent), which sidesteps pion's js/wasm
// candidate encoding (pion/webrtc issue 2121).
const (
	SignalOffer  SignalKind = "offer"
	SignalAnswer SignalKind = "answer"
	SignalClose  SignalKind = "close"
)

// Signal is the relayed payload of a TypeSignal message.
type Signal struct {
	Kind SignalKind `json:"kind"`
	// Session identifies one peer connection; the offerer picks it.
	Session string `json:"session"`
	SDP     string `json:"sdp,omitempty"`
}

// ErrorCode classifies an Error.
type ErrorCode string

// The error codes.
const (
	CodeBadMessage  ErrorCode = "bad_message"  // not JSON, or a field has the wrong shape
	CodeTooLarge    ErrorCode = "too_large"    // a frame over MaxMessageBytes
	CodeUnknownType ErrorCode = "unknown_type" // a type the tracker does not take from peers
	CodeBadDigest   ErrorCode = "bad_digest"   // a digest that is not 64 hex characters
	CodeBadManifest ErrorCode = "bad_manifest" // a manifest that is malformed or does not hash to its digest
	CodeUnknownFile ErrorCode = "unknown_file" // no peer holds the digest
	CodeUnknownPeer ErrorCode = "unknown_peer" // a signal to a peer that is not connected
	CodeRateLimited ErrorCode = "rate_limited" // too many messages, swarms, offers or connections
	CodeNotInSwarm  ErrorCode = "not_in_swarm" // an offer or close to a peer that shares no swarm Digest with the sender
	CodeNoOffer     ErrorCode = "no_offer"     // an answer to no offer the addressee made to the sender

	// Refusals of an HTTP request (the WebSocket handshake included),
	// as a JSON Error body.
	CodeUnauthorized ErrorCode = "unauthorized"     // 401: the tracker is private and the token is missing or wrong
	CodeBadOrigin    ErrorCode = "forbidden_origin" // 403: the page's Origin is not allowed to open the WebSocket
	CodeBadHost      ErrorCode = "forbidden_host"   // 421: the request's Host is not a name the tracker answers to
)

// Error is a typed error from the tracker.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return "tracker: " + string(e.Code) + ": " + e.Message }

// MaxMessageBytes bounds one signalling frame. A manifest of the largest
// allowed file fits.
const MaxMessageBytes = 8 << 20
