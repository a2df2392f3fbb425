// How the peer's bytes cross between its wasm memory and the browser:
// lendMemory lends the peer views of its own memory, and receiveBatched is
// the receive pump of each data channel, which also assembles the chunks
// the peer asks for (newAssembly), so their bytes never enter the peer.
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
// Uint8Array.
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
  };
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
