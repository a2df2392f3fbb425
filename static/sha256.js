// newSHA256 resolves to digest(...parts), which returns the SHA-256 of its
// Uint8Array arguments, one after another, as a new 32-byte Uint8Array,
// computed by hash-wasm's SHA-256 in WebAssembly (hash-wasm/, MIT): a
// plain-http page has no crypto.subtle, and this runs about 2.5 times as
// fast as Go's crypto/sha256 compiled to wasm. The receive pump hashes the
// chunks it assembles with it (pump.js);
// wasm/sha256_test.go checks it against Go's, under Node and in Chromium.
"use strict";
async function newSHA256(hashwasm) {
  const h = await hashwasm.createSHA256();
  return (...parts) => {
    h.init();
    for (const p of parts) h.update(p);
    return h.digest("binary");
  };
}
if (typeof module === "object") module.exports = { newSHA256 };
