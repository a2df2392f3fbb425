//go:build js

package rtc

import (
	"tabswarm/internal/jsmem"
)

// Send-side flow control for a data channel: stop queueing above the high
// mark and resume at the low mark. Browsers stall for seconds once half a
// megabyte or more sits in a channel's buffer.
const (
	sendHighWater = 128 << 10
	sendLowWater  = sendHighWater / 4
)

// receive feeds the inbox straight from the browser's message events, in
// batches where the page allows it. pion's own OnMessage hands each message
// to a new goroutine, which does not keep their order; copying here,
// synchronously, does.
func (t *channelTransport) receive() {
	stop := jsmem.Receive(t.dc.JSValue(), func(msgs [][]byte) {
		for _, b := range msgs {
			if !t.in.push(b) {
				go t.dc.Close()
				return
			}
		}
	})
	go func() {
		<-t.closed
		stop()
	}()
}

// send hands b to the browser, which copies it before send returns
// (RTCDataChannel.send), so the engine may reuse b at once: from the wasm
// memory in place when the page allows it.
func (t *channelTransport) send(b []byte) error {
	return jsmem.Send(t.dc.JSValue(), b)
}
