//go:build js

package jsmem

import (
	"encoding/binary"
	"runtime"
	"syscall/js"
)

// Item is one thing a receive pump delivers: a message, or the page's
// Report on a chunk it assembled.
type Item struct {
	Msg    []byte
	Report *Report
}

// Report is the page's report on a chunk it was told to expect: its
// SHA-256 and Blob once whole, or why it refused the chunk's blocks.
type Report struct {
	Index int
	Sum   [32]byte
	Blob  js.Value
	Err   string // a block out of order or of the wrong size; Sum and Blob unset
}

// Pump is the receive pump on one data channel (see Receive).
type Pump struct {
	stop     func()
	assembly js.Value // the page's chunk assembly, or null
}

// Receive calls deliver, synchronously and in order, with what arrives on
// the RTCDataChannel dc. The page's helper (recv) collects messages in
// JavaScript and hands them over in batches, so Go runs once per batch
// rather than once per message, and its take copies a batch straight into
// one Go buffer; without the helper, deliver gets each message alone.
// Each delivered message is its own slice (full capacity: appending to it
// never overwrites the next).
//
// With blockSize > 0, the page also assembles the chunks it is told to
// Expect (blocks of at most blockSize bytes), where it can hash them
// (Assembles): their blocks never reach Go, a Report does, and taken
// counts the payload bytes of such blocks since the last delivery.
func Receive(dc js.Value, blockSize int, deliver func(items []Item, taken int)) *Pump {
	if helper.Truthy() && helper.Get("recv").Truthy() {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			deliver(take(args[0], args[1].Int()), args[2].Int())
			return nil
		})
		p := helper.Call("recv", dc, fn, blockSize)
		stop := p.Get("stop")
		return &Pump{assembly: p.Get("assembly"), stop: func() {
			stop.Invoke()
			fn.Release()
		}}
	}
	dc.Set("binaryType", "arraybuffer")
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := uint8Array.New(args[0].Get("data"))
		b := make([]byte, data.Length())
		js.CopyBytesToGo(b, data)
		deliver([]Item{{Msg: b}}, 0)
		return nil
	})
	dc.Set("onmessage", fn)
	return &Pump{assembly: js.Null(), stop: func() {
		dc.Set("onmessage", js.Null())
		fn.Release()
	}}
}

// Assembles reports whether the page assembles the chunks it is told to
// Expect.
func (p *Pump) Assembles() bool { return p.assembly.Truthy() }

// Expect tells the page that chunk i, size bytes, was asked for: its
// blocks come as one Report (swarm.Assembler's Expect). Call it only
// where Assembles.
func (p *Pump) Expect(i, size int, stale bool) { p.assembly.Call("expect", i, size, stale) }

// Forget withdraws Expect(i).
func (p *Pump) Forget(i int) { p.assembly.Call("forget", i) }

// Stop ends the deliveries: deliver is not called after it returns.
func (p *Pump) Stop() { p.stop() }

// take copies batch, its messages size bytes in all, into one Go buffer:
// the page's take writes each entry's length first (-1 for a report),
// then the messages' bytes. It returns each message as its own slice of
// that buffer, and each report read from the batch.
func take(batch js.Value, size int) []Item {
	n := batch.Length()
	buf := make([]byte, 4*n+size)
	if len(buf) > 0 {
		helper.Call("take", batch, addr(buf), len(buf))
		runtime.KeepAlive(buf)
	}
	items := make([]Item, n)
	off := 4 * n
	for k := range items {
		l := int(int32(binary.LittleEndian.Uint32(buf[4*k:])))
		if l < 0 {
			items[k].Report = report(batch.Index(k))
			continue
		}
		items[k].Msg = buf[off : off+l : off+l]
		off += l
	}
	return items
}

func report(v js.Value) *Report {
	r := &Report{Index: v.Get("i").Int()}
	if e := v.Get("err"); e.Truthy() {
		r.Err = e.String()
		return r
	}
	js.CopyBytesToGo(r.Sum[:], v.Get("sum"))
	r.Blob = v.Get("blob")
	return r
}
