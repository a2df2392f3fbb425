// Package static holds the web app the tracker serves: the page, its script
// and style, hash-wasm's SHA-256 (hash-wasm/, MIT) with sha256.js around
// it, the hashing worker's script, and in dist/ what `make build` writes
// there (the wasm peer tabswarm.wasm, the hashing worker
// hasher.wasm, and Go's wasm_exec.js).
package static

import "embed"

// FS is the web app. dist/ is empty until `make build` has run.
//
//go:embed index.html format.js rows.js collections.js app.js hasher.js sha256.js pump.js hash-wasm style.css all:dist
var FS embed.FS
