// tabswarm hashing worker. The page sends it the compiled dist/hasher.wasm
// (Go's SHA-256) first, then {id, chunk} messages (chunk is a Blob), each
// answered with {id, hash} (hex) or {id, error}. A few of these hash a shared file's chunks in
// parallel when the page has no crypto.subtle (plain http).
"use strict";
importScripts("dist/wasm_exec.js");

let ready = Promise.reject(new Error("hasher: no module yet"));
ready.catch(() => {});

async function start(module) {
  const go = new Go();
  const instance = await WebAssembly.instantiate(module, go.importObject);
  go.run(instance); // sets self.tabswarmSha256, then waits for calls
}

onmessage = async (e) => {
  if (e.data.module) {
    ready = start(e.data.module);
    return;
  }
  const { id, chunk } = e.data;
  try {
    const buf = await chunk.arrayBuffer();
    await ready;
    postMessage({ id, hash: self.tabswarmSha256(buf) });
  } catch (err) {
    postMessage({ id, error: String(err) });
  }
};
