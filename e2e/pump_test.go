package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"testing"
	"time"
)

// TestReceivePump drives the page's receive pump (receiveBatched in
// static/app.js) with made-up data channel messages: a 32 KiB block
// waits for its batch; a small control frame goes to the peer at once,
// with the block before it; 1 MiB of blocks goes as one batch; and a
// block left alone goes once its wait is over.
func TestReceivePump(t *testing.T) {
	e := newEnv(t)
	p := e.newPerson(t, "alice", "/")
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	type run struct {
		Seen  []int   `json:"seen"`
		Calls [][]int `json:"calls"` // each call: the messages' sizes, then the bytes it was told
	}
	got, err := evalJS[run](ctx, `(() => {
		const ch = {}, calls = [], seen = [];
		window.pumpCalls = calls;
		window.pumpStop = receiveBatched(ch, (batch, n) => calls.push(batch.map((b) => b.byteLength).concat([n])));
		const msg = (n) => ch.onmessage({ data: new ArrayBuffer(n) });
		msg(32768); seen.push(calls.length);
		msg(9); seen.push(calls.length);
		for (let i = 0; i < 32; i++) msg(32768);
		seen.push(calls.length);
		msg(32768); seen.push(calls.length);
		return { seen, calls };
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 2}; !reflect.DeepEqual(got.Seen, want) {
		t.Fatalf("deliveries after each step: %v, want %v (block waits, control frame flushes, 1 MiB flushes, block waits)", got.Seen, want)
	}
	if want := []int{32768, 9, 32777}; !reflect.DeepEqual(got.Calls[0], want) {
		t.Errorf("first delivery %v, want %v", got.Calls[0], want)
	}
	if c := got.Calls[1]; len(c) != 33 || c[32] != 1<<20 {
		t.Errorf("second delivery: %d messages of %d bytes, want 32 of 1 MiB", len(c)-1, c[len(c)-1])
	}
	err = poll(ctx, 5*time.Second, 5*time.Millisecond, func(ctx context.Context) (bool, error) {
		last, err := evalJS[[]int](ctx, `pumpCalls.length > 2 ? pumpCalls[2] : []`)
		if err != nil || len(last) == 0 {
			return false, err
		}
		if want := []int{32768, 32768}; !reflect.DeepEqual(last, want) {
			t.Fatalf("third delivery %v, want %v", last, want)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the lone block was never delivered: %v", err)
	}
	if _, err := evalJS[bool](ctx, `pumpStop(), true`); err != nil {
		t.Fatal(err)
	}
}

// TestReceivePumpAssembles drives the page's chunk assembly (newAssembly
// in static/pump.js, behind receiveBatched) with made-up piece frames: an
// expected chunk's blocks are taken, not delivered, and its report
// carries the SHA-256 and a Blob of exactly its bytes; a frame for a
// chunk not expected, or withdrawn (forget), is delivered as it came; a
// stale block past offset 0 is dropped; a block out of order refuses its
// chunk with a report that goes at once; and take writes a batch's
// lengths (-1 for a report) and bytes as the peer reads them.
func TestReceivePumpAssembles(t *testing.T) {
	e := newEnv(t)
	p := e.newPerson(t, "alice", "/")
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	type report struct {
		I    int    `json:"i"`
		Sum  string `json:"sum"`
		Blob string `json:"blob"`
		Size int    `json:"size"`
		Err  string `json:"err"`
	}
	type run struct {
		Calls   [][]any  `json:"calls"` // each call: the batch's entries (a length or a report), then bytes and taken
		Reports []report `json:"reports"`
		Take    []int    `json:"take"`
	}
	got, err := awaitJS[run](ctx, `(async () => {
		const sha256 = await newSHA256(window.hashwasm);
		const hex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
		const asm = newAssembly(sha256, 32768);
		const ch = {}, calls = [], reports = [];
		const stop = receiveBatched(ch, (batch, n, taken) => {
			calls.push(batch.map((b) => b instanceof ArrayBuffer ? b.byteLength : (reports.push(b), "report " + b.i)).concat([n, taken]));
		}, asm);
		const chunk = new Uint8Array(70000).map((_, k) => (k * 7) & 255);
		const piece = (i, off, len) => {
			const b = new Uint8Array(9 + len), v = new DataView(b.buffer);
			b[0] = 5;
			v.setUint32(1, i);
			v.setUint32(5, off);
			b.set(chunk.subarray(off, off + len), 9);
			return b.buffer;
		};
		const msg = (buf) => ch.onmessage({ data: buf });
		asm.expect(3, 70000, true);
		msg(piece(3, 32768, 32768));          // stale: dropped
		msg(piece(3, 0, 32768));
		msg(piece(3, 32768, 32768));
		msg(piece(4, 0, 32768));              // not expected: the peer's
		msg(piece(3, 65536, 70000 - 65536));  // completes chunk 3
		msg(new Uint8Array([2, 0, 0, 0, 9]).buffer); // a have: goes at once, with the batch
		asm.expect(5, 70000, false);
		asm.forget(5);
		asm.expect(6, 70000, false);
		msg(piece(5, 0, 32768));              // withdrawn: the peer's
		msg(piece(6, 32768, 32768));          // out of order: refused at once
		stop();
		const out = [];
		for (const r of reports) {
			out.push(r.err ? { i: r.i, err: r.err } : {
				i: r.i, sum: hex(r.sum),
				blob: hex(new Uint8Array(await r.blob.arrayBuffer())) === hex(chunk) ? "same" : "differs", size: r.blob.size,
			});
		}
		const batch = [new Uint8Array([1, 2, 3]).buffer, reports[0], new Uint8Array([4]).buffer];
		const mem = new Uint8Array(3 * 4 + 4);
		take(batch, mem);
		const dv = new DataView(mem.buffer);
		return { calls, reports: out, take: [dv.getInt32(0, true), dv.getInt32(4, true), dv.getInt32(8, true), ...mem.subarray(12)] };
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := [][]any{
		{float64(32777), "report 3", float64(5), float64(32777 + 5), float64(70000)},
		{float64(32777), "report 6", float64(32777), float64(0)},
	}
	if !reflect.DeepEqual(got.Calls, wantCalls) {
		t.Errorf("deliveries %v, want %v", got.Calls, wantCalls)
	}
	if len(got.Reports) != 2 {
		t.Fatalf("reports %+v, want chunk 3's and chunk 6's", got.Reports)
	}
	chunk := make([]byte, 70000)
	for k := range chunk {
		chunk[k] = byte(k * 7)
	}
	want := sha256.Sum256(chunk)
	if r := got.Reports[0]; r.I != 3 || r.Err != "" || r.Sum != hex.EncodeToString(want[:]) || r.Blob != "same" || r.Size != 70000 {
		t.Errorf("chunk 3's report %+v: want its SHA-256 and a Blob of its 70000 bytes", r)
	}
	if r := got.Reports[1]; r.I != 6 || r.Err != "block at 32768 of chunk 6, want 0" {
		t.Errorf("chunk 6's report %+v: want it refused for a block out of order", r)
	}
	if want := []int{3, -1, 1, 1, 2, 3, 4}; !reflect.DeepEqual(got.Take, want) {
		t.Errorf("take wrote %v, want lengths 3, -1, 1 then the bytes 1 2 3 4", got.Take)
	}
}

// TestSendChunk drives the page's send loop (sendChunk in static/pump.js)
// over a made-up data channel: an upload's blocks go out behind the head
// with each block's offset in its last four bytes, the loop waits for
// bufferedamountlow while the channel holds more than its high mark,
// cancel stops it before its next block, a channel that refuses a send
// ends it with the error, and drained refuses a channel that is not
// open.
func TestSendChunk(t *testing.T) {
	e := newEnv(t)
	p := e.newPerson(t, "alice", "/")
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	type run struct {
		Frames    [][]int  `json:"frames"` // each: kind, index, offset, length, whether its bytes are the body's
		Steps     []string `json:"steps"`
		Cancelled []string `json:"cancelled"`
		Refused   string   `json:"refused"`
		Closed    string   `json:"closed"`
	}
	got, err := awaitJS[run](ctx, `(async () => {
		const channel = (refuse) => {
			const ch = new EventTarget();
			Object.assign(ch, { bufferedAmount: 0, readyState: "open", sent: [] });
			ch.send = (msg) => {
				if (refuse) throw new Error("refused");
				ch.sent.push(msg.slice());
				ch.bufferedAmount += msg.byteLength;
			};
			ch.drain = () => { ch.bufferedAmount = 0; ch.dispatchEvent(new Event("bufferedamountlow")); };
			return ch;
		};
		const tick = () => new Promise((r) => setTimeout(r, 0));
		const body = new Uint8Array(70000).map((_, k) => (k * 13) & 255);
		const head = new Uint8Array([5, 0, 0, 0, 3, 9, 9, 9, 9]);
		const steps = [];
		let ch = channel(false), ended = null;
		const up = sendChunk(ch, head, body.buffer, 32768, 65536, (err) => { ended = err; });
		await tick();
		steps.push(ch.sent.length + " sent, " + up.sent + " bytes, ended " + ended);
		ch.drain();
		await tick();
		steps.push(ch.sent.length + " sent, " + up.sent + " bytes, ended " + JSON.stringify(ended));
		const frames = ch.sent.map((m) => {
			const v = new DataView(m.buffer), off = v.getUint32(5), data = m.subarray(9);
			const same = data.every((b, k) => b === body[off + k]);
			return [m[0], v.getUint32(1), off, data.length, same ? 1 : 0];
		});

		const cancelled = [];
		ch = channel(false);
		ch.bufferedAmount = 1 << 20;
		ended = null;
		const up2 = sendChunk(ch, head, body.buffer, 32768, 65536, (err) => { ended = err; });
		up2.cancel();
		ch.drain();
		await tick();
		cancelled.push(ch.sent.length + " sent, " + up2.sent + " bytes, ended " + JSON.stringify(ended));

		let refused = null;
		sendChunk(channel(true), head, body.buffer, 32768, 65536, (err) => { refused = err; });
		await tick();

		const shut = channel(false);
		shut.readyState = "closed";
		const closed = await drained(shut).then(() => "resolved", (err) => err.message);
		return { frames, steps, cancelled, refused, closed };
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	wantFrames := [][]int{{5, 3, 0, 32768, 1}, {5, 3, 32768, 32768, 1}, {5, 3, 65536, 70000 - 65536, 1}}
	if !reflect.DeepEqual(got.Frames, wantFrames) {
		t.Errorf("frames (kind, index, offset, length, bytes right) %v, want %v", got.Frames, wantFrames)
	}
	if want := []string{"2 sent, 65536 bytes, ended null", `3 sent, 70000 bytes, ended ""`}; !reflect.DeepEqual(got.Steps, want) {
		t.Errorf("steps %q, want %q (two blocks fill the channel past its mark; the third waits for it to drain)", got.Steps, want)
	}
	if want := []string{`0 sent, 0 bytes, ended ""`}; !reflect.DeepEqual(got.Cancelled, want) {
		t.Errorf("cancelled upload: %q, want %q", got.Cancelled, want)
	}
	if got.Refused != "refused" {
		t.Errorf("a channel that refuses a send ended the upload with %q, want its error", got.Refused)
	}
	if got.Closed != "data channel closed" {
		t.Errorf("drained on a closed channel: %q, want a refusal", got.Closed)
	}
}
