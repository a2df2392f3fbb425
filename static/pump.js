// How the peer's bytes cross between its wasm memory and the browser:
// lendMemory lends the peer views of its own memory, receiveBatched is
// the receive pump of each data channel, which also assembles the chunks
// the peer asks for (newAssembly), so their bytes never enter the peer,
// and sendChunk sends an upload's blocks, so the peer runs once per chunk
// it uploads, not once per block.
"use strict";

// lendMemory lets the peer pass its bytes to Blob and RTCDataChannel.send,
// which copy them, straight from its memory: without it each chunk is first
// copied into a new JS array. The view is made here, inside the call, so it
// always sees the memory's current buffer. It also lends the receive pump
// (recv: receiveBatched, with a chunk assembly per channel when sha256 is
// given and the peer gives a block size; it returns { stop, assembly },
// assembly null when there is none), take, which copies a batch into the
// memory at ptr (see take below), and, when sha256 (newSHA256's digest) is
// given, sha256, which returns the SHA-256 of len bytes at ptr as a new
// Uint8Array. sendChunk and drained are those below, sendChunk's head
// given as len bytes at ptr.
function lendMemory(mem, sha256) {
  const view = (ptr, len) => new Uint8Array(mem.buffer, ptr, len);
  window.tabswarmMemory = {
    sha256: sha256 && ((ptr, len) => sha256(view(ptr, len))),
    blob: (ptr, len, type) => new Blob([view(ptr, len)], { type }),
    send: (channel, ptr, len) => channel.send(view(ptr, len)),
    recv: (channel, deliver, blockSize) => {
      const assembly = sha256 && blockSize > 0 ? newAssembly(sha256, blockSize) : null;
      return { stop: receiveBatched(channel, deliver, assembly), assembly };
    },
    take: (batch, ptr, len) => take(batch, view(ptr, len)),
    sendChunk: (channel, ptr, len, body, block, high, done) =>
      sendChunk(channel, view(ptr, len).slice(), body, block, high, done),
    drained,
  };
}

// sendChunk sends body, an ArrayBuffer (a chunk the peer read from
// storage), on channel as messages of up to block bytes of it, each behind
// a copy of head whose last four bytes it sets to the block's offset,
// big-endian: the peer's piece frames (swarm/wire.go). While the channel
// buffers more than high bytes it waits for its bufferedamountlow. It
// returns the upload: sent, the bytes of body queued so far, and cancel(),
// which stops it before its next block. done(error) is called at its end,
// with "" or why the channel refused it.
function sendChunk(channel, head, body, block, high, done) {
  const up = { sent: 0, cancelled: false, cancel() { up.cancelled = true; } };
  const data = new Uint8Array(body);
  // One message buffer for every block: send copies what it is given.
  const msg = new Uint8Array(head.length + Math.min(block, data.length));
  const offset = new DataView(msg.buffer, head.length - 4, 4);
  msg.set(head);
  (async () => {
    for (let off = 0; off < data.length; off += block) {
      if (channel.bufferedAmount > high) await drained(channel);
      if (up.cancelled) return;
      const end = Math.min(off + block, data.length);
      offset.setUint32(0, off);
      msg.set(data.subarray(off, end), head.length);
      channel.send(end - off === block ? msg : msg.subarray(0, head.length + end - off));
      up.sent = end;
    }
  })().then(() => done(""), (err) => done(String((err && err.message) || err)));
  return up;
}

// drained resolves at channel's next bufferedamountlow event, and rejects
// if the channel is not open or closes first.
function drained(channel) {
  return new Promise((resolve, reject) => {
    if (channel.readyState !== "open") {
      reject(new Error(`data channel ${channel.readyState}`));
      return;
    }
    const low = () => {
      channel.removeEventListener("close", closed);
      resolve();
    };
    const closed = () => {
      channel.removeEventListener("bufferedamountlow", low);
      reject(new Error("data channel closed"));
    };
    channel.addEventListener("bufferedamountlow", low, { once: true });
    channel.addEventListener("close", closed, { once: true });
  });
}

// take writes a batch, as receiveBatched delivers it, into to: first each
// entry's length as a little-endian int32 (-1 for a chunk report, which
// the peer reads from the batch itself), then the bytes of each message,
// one after another.
function take(batch, to) {
  const lens = new DataView(to.buffer, to.byteOffset, 4 * batch.length);
  let off = 4 * batch.length;
  batch.forEach((b, k) => {
    if (!(b instanceof ArrayBuffer)) {
      lens.setInt32(4 * k, -1, true);
      return;
    }
    lens.setInt32(4 * k, b.byteLength, true);
    to.set(new Uint8Array(b), off);
    off += b.byteLength;
  });
}

// batchBytes is how many received bytes receiveBatched collects before it
// calls the peer, which then runs once per batch, not once per 32 KiB
// message (README, Performance: 256 KiB batches cut the receiving tab's
// CPU about 5 %, 1 MiB ones about 5 % more).
const batchBytes = 1 << 20;

// batchWait (ms) is the longest a received message waits for its batch.
const batchWait = 20;

// urgentBytes: a message smaller than this (a control frame: hello,
// request, have, cancel, reject; a block of data is 32 KiB) goes to the
// peer at once, with the batch before it, so batching delays no request.
const urgentBytes = 1024;

// receiveBatched collects channel's messages, in order, and hands them to
// deliver(batch, bytes, taken) as an array once batchBytes have come, a
// message under urgentBytes has come, or the first of them has waited
// batchWait, whichever is first. With an assembly (newAssembly), the
// blocks of the chunks the peer expects go to it instead, and count
// toward batchBytes: taken counts their payload bytes since the last
// delivery, bytes only the messages'. A chunk it completes puts its
// report in the batch; one it refuses too, and the batch goes at once. It
// returns a function that stops it: deliver is not called after.
function receiveBatched(channel, deliver, assembly) {
  let batch = [], bytes = 0, taken = 0, timer = 0;
  const flush = () => {
    clearTimeout(timer);
    const b = batch, n = bytes, t = taken;
    batch = [], bytes = 0, taken = 0, timer = 0;
    deliver(b, n, t);
  };
  channel.binaryType = "arraybuffer";
  channel.onmessage = (e) => {
    const k = assembly ? assembly.offer(e.data, batch) : -1;
    let urgent;
    if (k >= 0) {
      taken += k;
      urgent = batch.length > 0 && batch[batch.length - 1].err !== undefined; // a chunk refused
    } else {
      batch.push(e.data);
      bytes += e.data.byteLength;
      urgent = e.data.byteLength < urgentBytes;
    }
    if (urgent || bytes + taken >= batchBytes) flush();
    else if (!timer) timer = setTimeout(flush, batchWait);
  };
  return () => {
    channel.onmessage = null;
    clearTimeout(timer);
    batch = [];
  };
}

// The piece frame of the peer wire protocol (swarm/wire.go): kind 5, then
// the chunk index and the block's offset in it, each a big-endian uint32,
// then the block.
const pieceKind = 5;
const pieceHeader = 9;

// newAssembly assembles, hashes (with sha256, newSHA256's digest) and
// makes the Blob of each chunk the peer expects, from blocks of at most
// blockSize bytes, by the rules the peer applies to the blocks it gets
// itself (swarm/recv.go, piece): in order from offset 0, each blockSize
// but a chunk's last. The peer checks each digest against its manifest
// and stores the Blob.
function newAssembly(sha256, blockSize) {
  const want = new Map(); // index -> { size, next, stale, parts }
  return {
    // expect says chunk i, size bytes, was asked for; when stale, blocks
    // of an earlier withdrawn send of it may come first and are dropped.
    expect(i, size, stale) {
      want.set(i, { size, next: 0, stale, parts: [] });
    },
    // forget withdraws expect(i): its later blocks go to the peer.
    forget(i) {
      want.delete(i);
    },
    // offer takes buf if it is a block of an expected chunk and returns
    // the payload bytes it took (0 for a stale block it dropped), or -1
    // when the peer must have buf. When the block completes its chunk,
    // or is out of order, its report goes onto out: { i, sum, blob } or
    // { i, err }.
    offer(buf, out) {
      if (buf.byteLength < pieceHeader) return -1;
      const v = new DataView(buf);
      if (v.getUint8(0) !== pieceKind) return -1;
      const i = v.getUint32(1), off = v.getUint32(5);
      const a = want.get(i);
      if (!a) return -1;
      const n = buf.byteLength - pieceHeader;
      if (a.stale && a.next === 0 && off > 0) return 0;
      if (off !== a.next || n !== Math.min(blockSize, a.size - off)) {
        want.delete(i);
        out.push({ i, err: `block at ${off} of chunk ${i}, want ${a.next}` });
        return 0;
      }
      a.parts.push(new Uint8Array(buf, pieceHeader));
      a.next += n;
      if (a.next === a.size) {
        want.delete(i);
        out.push({ i, sum: sha256(...a.parts), blob: new Blob(a.parts) });
      }
      return n;
    },
  };
}
