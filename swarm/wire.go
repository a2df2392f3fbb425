package swarm

import (
	"encoding/binary"
	"fmt"
)

// WireVersion is the peer wire protocol version sent in every hello.
const WireVersion = 1

// BlockSize is the largest piece payload in one data channel message. With
// its 9-byte header a piece stays well under the 64 KiB message limit that
// every browser and pion accept.
const BlockSize = 32 << 10

// kind is the first byte of every wire frame.
type kind byte

const (
	kindHello   kind = 1 // version u8, chunk count u32, have bitfield
	kindHave    kind = 2 // index u32
	kindRequest kind = 3 // index u32: send me chunk index
	kindCancel  kind = 4 // index u32: forget my request for index
	kindPiece   kind = 5 // index u32, offset u32, data: one block of a chunk
	kindReject  kind = 6 // index u32: I will not send index
)

func (k kind) String() string {
	switch k {
	case kindHello:
		return "hello"
	case kindHave:
		return "have"
	case kindRequest:
		return "request"
	case kindCancel:
		return "cancel"
	case kindPiece:
		return "piece"
	case kindReject:
		return "reject"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// frame is one decoded wire message. Data aliases the buffer it was decoded
// from.
type frame struct {
	Kind    kind
	Version byte
	Count   int // chunk count of a hello
	Have    []byte
	Index   int
	Offset  int
	Data    []byte
}

func appendHello(b []byte, have Bitfield) []byte {
	b = append(b, byte(kindHello), WireVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(have.Len()))
	return append(b, have.Bytes()...)
}

func appendIndex(b []byte, k kind, i int) []byte {
	return binary.BigEndian.AppendUint32(append(b, byte(k)), uint32(i))
}

func appendPiece(b []byte, i, off int, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(append(b, byte(kindPiece)), uint32(i))
	b = binary.BigEndian.AppendUint32(b, uint32(off))
	return append(b, data...)
}

// decodeFrame parses one wire message. It checks shape only; the caller
// checks indexes and offsets against the manifest.
func decodeFrame(b []byte) (frame, error) {
	if len(b) == 0 {
		return frame{}, fmt.Errorf("%w: empty frame", ErrProtocol)
	}
	f := frame{Kind: kind(b[0])}
	p := b[1:]
	switch f.Kind {
	case kindHello:
		if len(p) < 5 {
			return f, fmt.Errorf("%w: short hello", ErrProtocol)
		}
		f.Version = p[0]
		f.Count = int(binary.BigEndian.Uint32(p[1:]))
		f.Have = p[5:]
		if f.Count > MaxChunks || len(f.Have) != (f.Count+7)/8 {
			return f, fmt.Errorf("%w: hello bitfield of %d bytes for %d chunks", ErrProtocol, len(f.Have), f.Count)
		}
	case kindHave, kindRequest, kindCancel, kindReject:
		if len(p) != 4 {
			return f, fmt.Errorf("%w: %v frame of %d bytes", ErrProtocol, f.Kind, len(b))
		}
		f.Index = int(binary.BigEndian.Uint32(p))
	case kindPiece:
		if len(p) < 8 || len(p)-8 > BlockSize {
			return f, fmt.Errorf("%w: piece frame of %d bytes", ErrProtocol, len(b))
		}
		f.Index = int(binary.BigEndian.Uint32(p))
		f.Offset = int(binary.BigEndian.Uint32(p[4:]))
		f.Data = p[8:]
	default:
		return f, fmt.Errorf("%w: unknown frame kind %d", ErrProtocol, b[0])
	}
	if f.Index > MaxChunks {
		return f, fmt.Errorf("%w: chunk index %d out of range", ErrProtocol, f.Index)
	}
	return f, nil
}
