//go:build js

package jsmem

import (
	"runtime"
	"syscall/js"
)

// Receive calls deliver, synchronously and in order, with the binary
// messages that arrive on the RTCDataChannel dc. The page's helper
// (recv) collects messages in JavaScript and hands them over in batches,
// so Go runs once per batch rather than once per message, and its take
// copies a batch straight into one Go buffer; without the helper, deliver
// gets each message alone. Each delivered message is its own slice (full
// capacity: appending to it never overwrites the next). stop ends the
// deliveries: deliver is not called after it returns.
func Receive(dc js.Value, deliver func([][]byte)) (stop func()) {
	if helper.Truthy() && helper.Get("recv").Truthy() {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			deliver(take(args[0], args[1].Int()))
			return nil
		})
		end := helper.Call("recv", dc, fn)
		return func() {
			end.Invoke()
			fn.Release()
		}
	}
	dc.Set("binaryType", "arraybuffer")
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := uint8Array.New(args[0].Get("data"))
		b := make([]byte, data.Length())
		js.CopyBytesToGo(b, data)
		deliver([][]byte{b})
		return nil
	})
	dc.Set("onmessage", fn)
	return func() {
		dc.Set("onmessage", js.Null())
		fn.Release()
	}
}

// take copies the ArrayBuffers of batch, size bytes in all, into one Go
// buffer and returns each as its own slice of it.
func take(batch js.Value, size int) [][]byte {
	buf := make([]byte, size)
	if size > 0 {
		helper.Call("take", batch, addr(buf), size)
		runtime.KeepAlive(buf)
	}
	msgs := make([][]byte, batch.Length())
	off := 0
	for i := range msgs {
		n := batch.Index(i).Get("byteLength").Int()
		msgs[i] = buf[off : off+n : off+n]
		off += n
	}
	return msgs
}
