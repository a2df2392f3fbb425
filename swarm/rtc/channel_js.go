//go:build js

package rtc

import (
	"context"
	"fmt"
	"syscall/js"
	"time"

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

// transport is t as the engine sees it: where the page sends uploads, a
// ChunkSender, and also an Assembler where it assembles chunks (the page
// that assembles also sends: one pump.js); else t.
func (t *channelTransport) transport() swarm.Transport {
	switch {
	case t.pump.Assembles():
		return assembling{uploading{t}}
	case jsmem.SendsChunks():
		return uploading{t}
	}
	return t
}

// watchLow has the channel's bufferedamountlow events wake a Send that
// waits for room, through pion's callback where the page does not send
// uploads; where it does, drained asks the page at each wait, so the
// peer does not run at every event of the page's uploads.
func (t *channelTransport) watchLow() {
	if !jsmem.SendsChunks() {
		t.onLow()
	}
}

// drained waits until the channel's buffer drains to its low mark.
func (t *channelTransport) drained(ctx context.Context) error {
	if !jsmem.SendsChunks() {
		return t.waitLow(ctx)
	}
	if err := jsmem.Drained(ctx, t.dc.JSValue()); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", swarm.ErrClosed, err)
	}
	return nil
}

// progressEvery is how often uploading.SendChunk reports its progress.
const progressEvery = 250 * time.Millisecond

// uploading is a channel whose uploads the page sends
// (swarm.ChunkSender): the peer hands it a chunk's ArrayBuffer and hears
// back at its end, and its blocks never enter Go's memory.
type uploading struct{ *channelTransport }

var _ swarm.ChunkSender = uploading{}

// SendChunk implements swarm.ChunkSender. body is the ArrayBuffer the
// store read (wasm's ReadBody).
func (u uploading) SendChunk(ctx context.Context, head []byte, body any, progress func(sent int)) error {
	ab, ok := body.(js.Value)
	if !ok {
		return fmt.Errorf("sending a body of %T, want an ArrayBuffer", body)
	}
	select {
	case <-u.closed:
		return swarm.ErrClosed
	default:
	}
	up := jsmem.SendChunk(u.dc.JSValue(), head, ab, swarm.BlockSize, sendHighWater)
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-up.Done():
			progress(up.Sent())
			return up.Err()
		case <-tick.C:
			progress(up.Sent())
		case <-u.closed:
			up.Cancel()
			return swarm.ErrClosed
		case <-ctx.Done():
			up.Cancel()
			progress(up.Sent())
			return ctx.Err()
		}
	}
}

// assembling is a channel whose chunks the page assembles
// (swarm.Assembler): their bytes stay in JavaScript, a Blob the store
// keeps.
type assembling struct{ uploading }

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
