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
	TypeAnnounce Type = "announce"
	// TypeLeave (peer → tracker) says the peer no longer holds Digest.
	// Reply: TypeOK.
	TypeLeave Type = "leave"
	// TypeQuery (peer → tracker) asks who holds Digest. Reply: TypePeers.
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
	// another peer. The tracker fills in From and relays it unread.
	//
	// It needs To and a Signal with a Kind. Reply: TypeOK when ID is
	// nonzero. The addressee gets the message with ID 0 and PeerID cleared.
	TypeSignal Type = "signal"
	// TypeOK (tracker → peer) acknowledges a request.
	TypeOK Type = "ok"
	// TypeError (tracker → peer) reports a bad request in Error.
	TypeError Type = "error"
)

// Message is the one envelope for every type; fields a type does not use are
// left empty.
type Message struct {
	Type     Type            `json:"type"`
	ID       uint64          `json:"id,omitempty"`
	PeerID   string          `json:"peer_id,omitempty"`
	Digest   string          `json:"digest,omitempty"`
	Manifest json.RawMessage `json:"manifest,omitempty"`
	Have     int             `json:"have,omitempty"`
	Complete bool            `json:"complete,omitempty"`
	Peers    []PeerInfo      `json:"peers,omitempty"`
	To       string          `json:"to,omitempty"`
	From     string          `json:"from,omitempty"`
	Signal   *Signal         `json:"signal,omitempty"`
	Error    *Error          `json:"error,omitempty"`
}

// PeerInfo describes one member of a swarm.
type PeerInfo struct {
	ID       string `json:"id"`
	Have     int    `json:"have"`
	Complete bool   `json:"complete"`
}

// SignalKind names a step of WebRTC session set-up.
type SignalKind string

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
	CodeRateLimited ErrorCode = "rate_limited" // too many messages, swarms or connections
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
