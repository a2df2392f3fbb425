package swarm

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	have := NewBitfield(11)
	have.Set(0)
	have.Set(10)
	block := bytes.Repeat([]byte{7}, BlockSize)
	cases := []struct {
		name string
		b    []byte
		want frame
	}{
		{"hello", appendHello(nil, have), frame{Kind: kindHello, Version: WireVersion, Count: 11, Have: have.Bytes()}},
		{"have", appendIndex(nil, kindHave, 5), frame{Kind: kindHave, Index: 5}},
		{"request", appendIndex(nil, kindRequest, 65535), frame{Kind: kindRequest, Index: 65535}},
		{"cancel", appendIndex(nil, kindCancel, 1), frame{Kind: kindCancel, Index: 1}},
		{"reject", appendIndex(nil, kindReject, 2), frame{Kind: kindReject, Index: 2}},
		{"piece", appendPiece(nil, 3, 64<<10, block), frame{Kind: kindPiece, Index: 3, Offset: 64 << 10, Data: block}},
		{"empty piece", appendPiece(nil, 0, 0, nil), frame{Kind: kindPiece, Data: []byte{}}},
	}
	for _, c := range cases {
		got, err := decodeFrame(c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Kind != c.want.Kind || got.Version != c.want.Version || got.Count != c.want.Count ||
			got.Index != c.want.Index || got.Offset != c.want.Offset ||
			!bytes.Equal(got.Have, c.want.Have) || !bytes.Equal(got.Data, c.want.Data) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestFrameRejectsMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"unknown kind":   {99, 0, 0, 0, 1},
		"short have":     {byte(kindHave), 0, 0},
		"long request":   {byte(kindRequest), 0, 0, 0, 1, 0},
		"short hello":    {byte(kindHello), 1},
		"hello mismatch": {byte(kindHello), 1, 0, 0, 0, 9, 0xff},
		"huge hello":     {byte(kindHello), 1, 0xff, 0xff, 0xff, 0xff},
		"oversized":      appendPiece(nil, 0, 0, make([]byte, BlockSize+1)),
		"index range":    appendIndex(nil, kindHave, MaxChunks+1),
	} {
		if _, err := decodeFrame(b); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: err = %v, want ErrProtocol", name, err)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	have := NewBitfield(9)
	have.Set(8)
	f.Add(appendHello(nil, have))
	f.Add(appendIndex(nil, kindRequest, 3))
	f.Add(appendPiece(nil, 1, 2, []byte("abc")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		var again []byte
		switch fr.Kind {
		case kindHello:
			bf, ok := BitfieldFromBytes(fr.Count, fr.Have)
			if !ok {
				return // spare bits set: the session rejects it
			}
			again = appendHello(nil, bf)
		case kindPiece:
			again = appendPiece(nil, fr.Index, fr.Offset, fr.Data)
		default:
			again = appendIndex(nil, fr.Kind, fr.Index)
		}
		if fr.Kind == kindHello && fr.Version != WireVersion {
			return
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x", b, again)
		}
	})
}
