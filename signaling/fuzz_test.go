//go:build !js

package signaling

import (
	"encoding/json"
	"testing"

	"github.com/coder/websocket"
)

// FuzzDecode feeds arbitrary frames to the client's decoder, which reads
// whatever the tracker (or something posing as it) sends: it must never
// panic, and what it accepts must encode again.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"welcome","peer_id":"abc"}`,
		`{"type":"peers","id":3,"digest":"00","manifest":{"x":1},"peers":[{"id":"p","have":2,"complete":true}]}`,
		`{"type":"signal","from":"p","digest":"00","signal":{"kind":"offer","session":"s","sdp":"v=0"}}`,
		`{"type":"error","id":4,"error":{"code":"no_offer","message":"m"}}`,
		`{"type":"peers","peers":[null,{}]}`,
		`{"id":-1}`,
		`not json`,
	} {
		f.Add([]byte(seed), true)
	}
	f.Add([]byte{0, 1, 2}, false)
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		m, err := decode(typ, data)
		if err != nil {
			return
		}
		if _, err := json.Marshal(m); err != nil && len(m.Manifest) == 0 {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
	})
}
