//go:build js

package jsmem

import (
	"context"
	"fmt"
	"runtime"
	"syscall/js"
)

// SendsChunks reports whether the page sends uploads itself (SendChunk).
func SendsChunks() bool { return helper.Truthy() && helper.Get("sendChunk").Truthy() }

// Upload is a chunk the page is sending (SendChunk).
type Upload struct {
	up   js.Value
	done chan struct{}
	err  error
}

// SendChunk has the page send body, an ArrayBuffer, on the RTCDataChannel
// dc as messages of up to block bytes of it, each behind a copy of head
// whose last four bytes are set to the block's offset (big-endian), while
// dc buffers at most high bytes. It returns at once; the page keeps
// nothing of head. Call only where SendsChunks.
func SendChunk(dc js.Value, head []byte, body js.Value, block, high int) *Upload {
	u := &Upload{done: make(chan struct{})}
	var fn js.Func
	fn = js.FuncOf(func(_ js.Value, args []js.Value) any {
		if msg := args[0].String(); msg != "" {
			u.err = fmt.Errorf("data channel send: %s", msg)
		}
		close(u.done)
		fn.Release()
		return nil
	})
	u.up = helper.Call("sendChunk", dc, addr(head), len(head), body, block, high, fn)
	runtime.KeepAlive(head)
	return u
}

// Done is closed when the upload has ended: its last block queued,
// cancelled, or refused by the channel.
func (u *Upload) Done() <-chan struct{} { return u.done }

// Err says why the channel refused the upload, once Done is closed; nil
// when it did not.
func (u *Upload) Err() error { return u.err }

// Sent returns how many of the body's bytes are queued so far.
func (u *Upload) Sent() int { return u.up.Get("sent").Int() }

// Cancel stops the upload before its next block.
func (u *Upload) Cancel() { u.up.Call("cancel") }

// Drained waits for dc's next bufferedamountlow event. It fails when dc
// is not open or closes first. Call only where SendsChunks. The page's
// wait outlives a cancelled ctx; it ends with the channel's next event.
func Drained(ctx context.Context, dc js.Value) error {
	done := make(chan error, 1)
	var ok, fail js.Func
	settle := func(err error) {
		done <- err
		ok.Release() // both, as the promise settles once
		fail.Release()
	}
	ok = js.FuncOf(func(js.Value, []js.Value) any {
		settle(nil)
		return nil
	})
	fail = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(fmt.Errorf("data channel: %s", args[0].Get("message").String()))
		return nil
	})
	helper.Call("drained", dc).Call("then", ok, fail)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
