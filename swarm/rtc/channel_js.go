//go:build js

package rtc

import (
	"syscall/js"

	"tabswarm/internal/jsmem"
)

// Send-side flow control for a data channel: stop queueing above the high
// mark and resume at the low mark. Browsers stall for seconds once half a
// megabyte or more sits in a channel's buffer.
const (
	sendHighWater = 128 << 10
	sendLowWater  = sendHighWater / 4
)

// receive feeds the inbox straight from the browser's message event. pion's
// own OnMessage hands each message to a new goroutine, which does not keep
// their order; copying here, synchronously, does.
func (t *channelTransport) receive() {
	v := t.dc.JSValue()
	v.Set("binaryType", "arraybuffer")
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		data := js.Global().Get("Uint8Array").New(args[0].Get("data"))
		b := make([]byte, data.Length())
		js.CopyBytesToGo(b, data)
		if !t.in.push(b) {
			go t.dc.Close()
		}
		return nil
	})
	v.Set("onmessage", onMessage)
	go func() {
		<-t.closed
		v.Set("onmessage", js.Null())
		onMessage.Release()
	}()
}

// send hands b to the browser, which copies it: from the wasm memory in
// place when the page allows it.
func (t *channelTransport) send(b []byte) error {
	return jsmem.Send(t.dc.JSValue(), b)
}
