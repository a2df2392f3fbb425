//go:build !js

package rtc

import (
	"context"
	"fmt"

	"github.com/pion/webrtc/v4"

	"tabswarm/swarm"
)

// Send-side flow control for a data channel: stop queueing above the high
// mark and resume at the low mark. pion counts bytes not yet acknowledged,
// so its window must cover the bandwidth-delay product with SACKs pending.
const (
	sendHighWater = 1 << 20
	sendLowWater  = sendHighWater / 2
)

// watchLow has pion's bufferedamountlow callback wake a Send that waits
// for room.
func (t *channelTransport) watchLow() { t.onLow() }

// drained waits until the channel's buffer drains to its low mark.
func (t *channelTransport) drained(ctx context.Context) error { return t.waitLow(ctx) }

// receive feeds the inbox from pion's message callback, which runs in order
// on pion's read loop.
func (t *channelTransport) receive() {
	t.dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		if !t.in.push(swarm.Received{Msg: msg.Data}) {
			t.dc.Close()
		}
	})
}

// pump is nothing natively: pion's callback feeds the inbox.
type pump struct{}

// transport is t as the engine sees it: natively, t itself.
func (t *channelTransport) transport() swarm.Transport { return t }

// send hands b to pion, which copies it (sctp's packetize) and keeps the
// copy until the peer acknowledges it, so the engine may reuse b at once
// (swarm.Transport); if pion kept b itself, the engine's reused buffer
// would corrupt queued blocks and swarm's TestNodeDownload would fail.
func (t *channelTransport) send(b []byte) error {
	if err := t.dc.Send(b); err != nil {
		return fmt.Errorf("data channel send: %w", err)
	}
	return nil
}
