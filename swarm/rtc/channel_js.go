//go:build js

package rtc

import (
	"context"
	"fmt"

	"tabswarm/internal/jsmem"
	"tabswarm/swarm"
)

// Send-side flow control for a data channel: stop queueing above the high
// mark and resume at the low mark. Browsers stall for seconds once half a
// megabyte or more sits in a channel's buffer.
const (
	sendHighWater = 128 << 10
	sendLowWater  = sendHighWater / 4
)

// pump is the page's receive pump on the channel.
type pump = *jsmem.Pump

// receive feeds the inbox straight from the browser's message events, in
// batches where the page allows it, with the chunks the page assembled.
// pion's own OnMessage hands each message to a new goroutine, which does
// not keep their order; copying here, synchronously, does.
func (t *channelTransport) receive() {
	t.pump = jsmem.Receive(t.dc.JSValue(), swarm.BlockSize, func(items []jsmem.Item, taken int) {
		if taken > 0 && !t.in.push(swarm.Received{Taken: taken}) {
			go t.dc.Close()
			return
		}
		for _, it := range items {
			r := swarm.Received{Msg: it.Msg}
			if it.Report != nil {
				r.Chunk = assembled(it.Report)
			}
			if !t.in.push(r) {
				go t.dc.Close()
				return
			}
		}
	})
	go func() {
		<-t.closed
		t.pump.Stop()
	}()
}

func assembled(r *jsmem.Report) *swarm.Assembled {
	if r.Err != "" {
		return &swarm.Assembled{Index: r.Index, Err: fmt.Errorf("%w: %s", swarm.ErrProtocol, r.Err)}
	}
	return &swarm.Assembled{Index: r.Index, Digest: r.Sum, Body: r.Blob}
}

// transport is t as the engine sees it: an Assembler where the page
// assembles chunks, else t.
func (t *channelTransport) transport() swarm.Transport {
	if t.pump.Assembles() {
		return assembling{t}
	}
	return t
}

// assembling is a channel whose chunks the page assembles
// (swarm.Assembler): their bytes stay in JavaScript, a Blob the store
// keeps.
type assembling struct{ *channelTransport }

var _ swarm.Assembler = assembling{}

// Expect implements swarm.Assembler.
func (a assembling) Expect(i, size int, stale bool) { a.pump.Expect(i, size, stale) }

// Forget implements swarm.Assembler.
func (a assembling) Forget(i int) { a.pump.Forget(i) }

// Next implements swarm.Assembler.
func (a assembling) Next(ctx context.Context) (swarm.Received, error) {
	return a.in.pop(ctx)
}

// send hands b to the browser, which copies it before send returns
// (RTCDataChannel.send), so the engine may reuse b at once: from the wasm
// memory in place when the page allows it.
func (t *channelTransport) send(b []byte) error {
	return jsmem.Send(t.dc.JSValue(), b)
}
