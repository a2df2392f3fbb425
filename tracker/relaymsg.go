package tracker

import (
	"encoding/binary"
	"errors"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// A relay between nodes is a short binary head that names what the
// receiving node checks (sender, addressee, swarm, signal kind and
// session), followed by the frame the addressee gets, as this node
// encoded it. The receiving node reads the head and passes the frame on
// unread: decoding the whole JSON message again, SDP and all, was a
// large part of a cross-node relay's cost.
//
//	relayVersion
//	from, to, kind, session: each a uvarint length and the bytes
//	digest: the swarm.Hash's bytes
//	the frame
type relayHead struct {
	from, to string
	digest   swarm.Hash
	signal   signaling.Signal // Kind and Session only
}

// relayVersion starts every relay; a node that reads another byte there
// refuses the relay as one it cannot decode.
const relayVersion = 1

var errRelayDecode = errors.New("a relay between nodes that does not decode")

// appendRelay appends the relay of frame, with h's head, to b.
func appendRelay(b []byte, h relayHead, frame []byte) []byte {
	b = append(b, relayVersion)
	for _, s := range []string{h.from, h.to, string(h.signal.Kind), h.signal.Session} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, h.digest[:]...)
	return append(b, frame...)
}

// parseRelay splits a relay into its head and its frame, which aliases b.
func parseRelay(b []byte) (relayHead, []byte, error) {
	var h relayHead
	if len(b) == 0 || b[0] != relayVersion {
		return h, nil, errRelayDecode
	}
	b = b[1:]
	var fields [4]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return h, nil, errRelayDecode
		}
		fields[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) < len(h.digest) {
		return h, nil, errRelayDecode
	}
	h.from, h.to = fields[0], fields[1]
	h.signal = signaling.Signal{Kind: signaling.SignalKind(fields[2]), Session: fields[3]}
	copy(h.digest[:], b)
	return h, b[len(h.digest):], nil
}
