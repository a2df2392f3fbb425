"use strict";
// The floor for issue 13: the least work a verified, stored transfer
// costs, in plain JS on the ceiling's data channel, in tabswarm's shapes.
// The sender keeps the picked file whole in IndexedDB, as a share does,
// and sends it back from there: each chunk a slice of the stored Blob,
// read one chunk ahead, cut into 32 KiB blocks behind the 9-byte piece
// header of swarm/wire.go, with the ceiling's backpressure. The receiver
// hashes each chunk's blocks as they arrive (hash-wasm's SHA-256: a
// plain-http page has no crypto.subtle), checks the chunk against the
// hash it was given, and stores it as one Blob in wasm/idb.go's layout:
// key [file key, index] in "chunks", committed in transactions of up to
// 16 chunks with relaxed durability, the chunks that arrive during a
// commit going into the next one.
(() => {
  const PIECE = 5;     // the piece frame's kind byte
  const HEADER = 9;    // kind, index u32, offset u32
  const MAX_BATCH = 16; // chunks per transaction, as wasm/idb.go
  const FILES = "files", CHUNKS = "chunks", CONTENTS = "contents";
  const KEY = "floor"; // the one file's key

  const request = (r) => new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const committed = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });

  let dbOpen;
  function openDB() {
    if (!dbOpen) {
      const r = indexedDB.open("floor", 1);
      r.onupgradeneeded = () => {
        for (const s of [FILES, CHUNKS, CONTENTS]) r.result.createObjectStore(s);
      };
      dbOpen = request(r);
    }
    return dbOpen;
  }

  // drained resolves once the channel's buffer falls to its low mark.
  const drained = () => new Promise((resolve) => {
    dc.onbufferedamountlow = () => { dc.onbufferedamountlow = null; resolve(); };
  });

  // The receiver's state for the one file it expects.
  let rx = null;

  function fail(err) {
    if (rx.err) return;
    rx.err = err instanceof Error ? err : new Error(String(err));
    dc.onmessage = null;
    if (rx.reject) rx.reject(rx.err);
  }

  function onPiece(e) {
    if (rx.err) return;
    const msg = new Uint8Array(e.data);
    const v = new DataView(e.data);
    if (msg.length < HEADER || msg[0] !== PIECE) return fail(new Error(`not a piece frame: ${msg.length} bytes, kind ${msg[0]}`));
    const i = v.getUint32(1), off = v.getUint32(5);
    if (rx.first === 0) rx.first = performance.now();
    if (off === 0) {
      rx.chunk = i;
      rx.have = 0;
      rx.parts = [];
      rx.hasher.init();
    }
    if (i !== rx.chunk || off !== rx.have || i >= rx.hashes.length) return fail(new Error(`piece ${i}@${off} out of order`));
    const data = msg.subarray(HEADER);
    rx.hasher.update(data);
    rx.parts.push(data);
    rx.have += data.length;
    const want = Math.min(rx.chunkSize, rx.size - i * rx.chunkSize);
    if (rx.have > want) return fail(new Error(`chunk ${i}: ${rx.have} bytes, want ${want}`));
    if (rx.have < want) return;
    const sum = rx.hasher.digest("binary");
    const exp = rx.hashes[i];
    for (let k = 0; k < 32; k++) {
      if (sum[k] !== exp[k]) return fail(new Error(`chunk ${i} fails its hash`));
    }
    rx.queue.push([i, new Blob(rx.parts)]);
    rx.parts = [];
    if (!rx.committing) commit();
  }

  // commit stores the queued chunks, up to MAX_BATCH in one transaction,
  // then the next batch, until the queue is empty.
  function commit() {
    const batch = rx.queue.splice(0, MAX_BATCH);
    rx.committing = batch.length > 0;
    if (!rx.committing) return;
    let tx;
    try {
      tx = rx.db.transaction(CHUNKS, "readwrite", { durability: "relaxed" });
      const st = tx.objectStore(CHUNKS);
      for (const [i, blob] of batch) st.put(blob, [KEY, i]);
    } catch (err) {
      return fail(err);
    }
    committed(tx).then(() => {
      rx.stored += batch.length;
      if (rx.firstStored === 0) rx.firstStored = performance.now();
      if (rx.stored === rx.hashes.length) {
        rx.result = { ms: performance.now() - rx.first, firstMs: rx.firstStored - rx.first };
        if (rx.resolve) rx.resolve(rx.result);
      }
      commit();
    }, fail);
  }

  function hexBytes(h) {
    const b = new Uint8Array(h.length / 2);
    for (let k = 0; k < b.length; k++) b[k] = parseInt(h.substr(2 * k, 2), 16);
    return b;
  }

  window.floor = {
    // store keeps the file picked in #file whole in IndexedDB, with its
    // file record, in one transaction, as a share does; it resolves with
    // the file's size.
    async store() {
      const file = document.getElementById("file").files[0];
      if (!file) throw new Error("no file picked");
      const db = await openDB();
      const tx = db.transaction([FILES, CONTENTS], "readwrite");
      tx.objectStore(CONTENTS).put(file, KEY);
      tx.objectStore(FILES).put({ digest: KEY, key: KEY, manifest: "" }, KEY);
      await committed(tx);
      return file.size;
    },
    // send sends the stored file in chunks of chunkSize bytes and blocks
    // of block bytes, queueing while bufferedAmount is under high and
    // resuming at low.
    async send(chunkSize, block, high, low) {
      const db = await openDB();
      const whole = await request(db.transaction(CONTENTS, "readonly").objectStore(CONTENTS).get(KEY));
      if (!whole) throw new Error("no stored file");
      dc.bufferedAmountLowThreshold = low;
      const n = Math.ceil(whole.size / chunkSize);
      const read = (i) => whole.slice(i * chunkSize, Math.min((i + 1) * chunkSize, whole.size)).arrayBuffer();
      let next = n > 0 ? read(0) : null;
      for (let i = 0; i < n; i++) {
        const data = new Uint8Array(await next);
        next = i + 1 < n ? read(i + 1) : null;
        for (let off = 0; off < data.length; off += block) {
          if (dc.bufferedAmount >= high) await drained();
          const end = Math.min(off + block, data.length);
          const msg = new Uint8Array(HEADER + end - off);
          const v = new DataView(msg.buffer);
          msg[0] = PIECE;
          v.setUint32(1, i);
          v.setUint32(5, off);
          msg.set(data.subarray(off, end), HEADER);
          dc.send(msg);
        }
      }
      return true;
    },
    // expect readies the receiver for a file of size bytes in chunks of
    // chunkSize, whose chunks have the SHA-256 hashes (hex) given, and
    // stores its file record. Call it before the sender sends.
    async expect(size, chunkSize, hashes) {
      const db = await openDB();
      const tx = db.transaction(FILES, "readwrite");
      tx.objectStore(FILES).put({ digest: KEY, key: KEY, manifest: "" }, KEY);
      await committed(tx);
      rx = {
        db, size, chunkSize, hashes: hashes.map(hexBytes),
        hasher: await hashwasm.createSHA256(),
        chunk: -1, have: 0, parts: [], queue: [], committing: false,
        first: 0, firstStored: 0, stored: 0, result: null, err: null, resolve: null, reject: null,
      };
      await channelReady;
      dc.onmessage = onPiece;
      return true;
    },
    // receive resolves, once every chunk is verified and stored, with the
    // milliseconds from the first message to the last commit (ms) and to
    // the first (firstMs); it rejects on a bad piece, a chunk that fails
    // its hash, or a failed transaction.
    receive() {
      return new Promise((resolve, reject) => {
        if (rx.err) return reject(rx.err);
        if (rx.result) return resolve(rx.result);
        rx.resolve = resolve;
        rx.reject = reject;
      });
    },
    // stored resolves with the indexes of the chunks stored.
    async stored() {
      const db = await openDB();
      const keys = await request(db.transaction(CHUNKS, "readonly").objectStore(CHUNKS).getAllKeys());
      return keys.map((k) => k[1]);
    },
    // forget deletes every stored chunk.
    async forget() {
      const db = await openDB();
      const tx = db.transaction(CHUNKS, "readwrite");
      tx.objectStore(CHUNKS).clear();
      await committed(tx);
      return true;
    },
  };
})();
