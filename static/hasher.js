// tabswarm hashing worker. The page sends it the compiled dist/hasher.wasm
// (Go's SHA-256) first, then jobs, each answered with {id, hashes} (the hex
// SHA-256 of every chunk, one after another) or {id, error: {name,
// message}}. A job
// {id, blob, start, end, chunk} reads bytes start to end of the Blob (a
// shared File) and hashes them in chunks of chunk bytes. A few of these
// hash a share on every core when the page has no crypto.subtle (plain
// http).
"use strict";
importScripts("dist/wasm_exec.js");

let ready = Promise.reject(new Error("hasher: no module yet"));
ready.catch(() => {});

async function load(module) {
  const go = new Go();
  const instance = await WebAssembly.instantiate(module, go.importObject);
  go.run(instance); // defines tabswarmBuffer and tabswarmSums, then waits
  return instance.exports.mem;
}

// Each job's read starts as it arrives, so the browser reads the next runs
// while this thread hashes. A run is hashed once it and every job before
// it are done: copied into Go's one buffer and summed with no await in
// between, so runs never mix there.
let last = Promise.resolve();
onmessage = (e) => {
  if (e.data.module) {
    ready = load(e.data.module);
    return;
  }
  const { id, blob, start, end, chunk } = e.data;
  const read = (async () => blob.slice(start, end).arrayBuffer())();
  read.catch(() => {}); // reported in turn, below
  last = last.then(async () => {
    try {
      const mem = await ready;
      const run = new Uint8Array(await read);
      if (run.length !== end - start) {
        throw new DOMException(`read ${run.length} bytes at ${start}, want ${end - start}`, "NotReadableError");
      }
      const ptr = self.tabswarmBuffer(run.length); // may grow the memory
      new Uint8Array(mem.buffer, ptr, run.length).set(run);
      postMessage({ id, hashes: self.tabswarmSums(chunk) });
    } catch (err) {
      postMessage({ id, error: { name: err.name || "Error", message: String(err.message || err) } });
    }
  });
};
