// newSHA256 resolves to digest(data), which returns the SHA-256 of data (a
// Uint8Array) as a new 32-byte Uint8Array, computed by hash-wasm's SHA-256 in
// WebAssembly (hash-wasm/, MIT): a plain-http page has no crypto.subtle,
// and this runs about 2.5 times as fast as Go's crypto/sha256 compiled to
// wasm. The peer verifies received chunks with it (lendMemory in app.js);
// wasm/sha256_test.go checks it against Go's, under Node and in Chromium.
"use strict";
async function newSHA256(hashwasm) {
  const h = await hashwasm.createSHA256();
  return (data) => {
    h.init();
    h.update(data);
    return h.digest("binary");
  };
}
if (typeof module === "object") module.exports = { newSHA256 };
