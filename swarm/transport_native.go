//go:build !js

package swarm

import "github.com/pion/webrtc/v4"

// receive feeds the inbox from pion's message callback, which runs in order
// on pion's read loop.
func (t *channelTransport) receive() {
	t.dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		if !t.in.push(msg.Data) {
			t.dc.Close()
		}
	})
}
