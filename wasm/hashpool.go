//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall/js"

	"tabswarm/swarm"
)

// runHasher is how a share hashes its file: hash queues the hashing of
// bytes start to end of a Blob, a run of whole chunks of cs bytes, and
// returns where the result will arrive; run is the bytes per job and
// ahead the most in flight.
type runHasher struct {
	hash       func(blob js.Value, start, end, cs int64) <-chan hashResult
	run, ahead int64
}

// hereHasher hashes on this thread: with crypto.subtle when the page may
// use it, else in Go. On this thread every byte in flight is in this
// module's memory, which never shrinks: runs are kept small.
func hereHasher(ctx context.Context) runHasher {
	return runHasher{hash: func(blob js.Value, start, end, cs int64) <-chan hashResult {
		ch := make(chan hashResult, 1)
		go func() { ch <- hashHere(ctx, blob, start, end, cs) }()
		return ch
	}, run: 4 << 20, ahead: 16 << 20}
}

// hashHere reads bytes start to end of blob and hashes them in chunks of
// cs bytes on this thread: with crypto.subtle when the page may use it,
// else in Go (swarm.HashRun).
func hashHere(ctx context.Context, blob js.Value, start, end, cs int64) hashResult {
	ab, err := await(ctx, blob.Call("slice", start, end).Call("arrayBuffer"))
	if err != nil {
		return hashResult{err: fmt.Errorf("reading: %w", err)}
	}
	if n := int64(ab.Get("byteLength").Int()); n != end-start {
		return hashResult{err: fmt.Errorf("%w: %d bytes at %d, want %d", errUnreadable, n, start, end-start)}
	}
	if !hasSubtle() {
		return hashResult{sums: swarm.HashRun(nil, bytesFromJS(ab, nil), cs)}
	}
	var r hashResult
	for off := int64(0); off < end-start; off += cs {
		h, err := digestJS(ctx, js.Global().Get("Uint8Array").New(ab, off, min(cs, end-start-off)))
		if err != nil {
			return hashResult{err: err}
		}
		r.sums = append(r.sums, h)
	}
	return r
}

// hashWorkers is the page's pool of hashing workers, started by the first
// share that needs one. The bridge owns it and hands each share the
// hasher to use.
type hashWorkers struct {
	mu   sync.Mutex
	pool *hashPool
}

// shareHasher returns how a share hashes its file: on the hashing
// workers when the page has no crypto.subtle, else on this thread.
func (w *hashWorkers) shareHasher(ctx context.Context) runHasher {
	if pool := w.start(ctx); pool != nil {
		// Reading a File costs the browser about 3.0 CPU-seconds per 256
		// MiB in 4 MiB reads, 2.0 in 16 MiB ones. Four runs keep two
		// workers each hashing one while the next is read.
		return runHasher{hash: pool.hashRegion, run: swarm.RunSize, ahead: 4 * swarm.RunSize}
	}
	return hereHasher(ctx)
}

// start starts the workers on first use: one per core, at most four. It
// returns nil, and logs why, when they cannot run; the next share tries
// again.
func (w *hashWorkers) start(ctx context.Context) *hashPool {
	if hasSubtle() {
		return nil // the browser's own hashing is faster still
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pool == nil || w.pool.stopped() {
		n := min(max(js.Global().Get("navigator").Get("hardwareConcurrency").Int(), 1), 4)
		p, err := newHashPool(ctx, n)
		if err != nil {
			slog.Warn("hashing on the page's thread", "err", err)
			return nil
		}
		slog.Info("hashing workers started", "workers", n)
		w.pool = p
	}
	return w.pool
}

// hashPool hashes a shared file on Web Workers that run Go's SHA-256
// (static/hasher.js with dist/hasher.wasm), so a share on a page with no
// crypto.subtle (plain http) hashes on every core. Each worker reads its
// run of the file itself, so this thread neither slices nor copies it:
// posting a Blob passes a handle, not its bytes.
type hashPool struct {
	workers []js.Value
	onMsg   js.Func
	onErr   js.Func

	mu      sync.Mutex
	next    int // the worker for the next job
	id      int
	pending map[int]chan hashResult
	closed  bool
}

// hashResult is the SHA-256 of each chunk of a run, or why there is none.
type hashResult struct {
	sums []swarm.Hash
	err  error
}

// errPoolClosed fails the jobs still pending when the pool closes.
var errPoolClosed = errors.New("hashing workers stopped")

// newHashPool compiles the hasher once and starts n workers with it.
func newHashPool(ctx context.Context, n int) (*hashPool, error) {
	module, err := await(ctx, js.Global().Get("WebAssembly").Call("compileStreaming",
		js.Global().Call("fetch", "dist/hasher.wasm")))
	if err != nil {
		return nil, fmt.Errorf("loading the hashing worker: %w", err)
	}
	p := &hashPool{pending: make(map[int]chan hashResult)}
	p.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		p.done(args[0].Get("data"))
		return nil
	})
	// A worker that cannot load its script reports only an error event.
	p.onErr = js.FuncOf(func(this js.Value, args []js.Value) any {
		go p.close()
		return nil
	})
	for range n {
		w, err := construct(js.Global().Get("Worker"), "hasher.js")
		if err != nil {
			p.close()
			return nil, fmt.Errorf("starting a hashing worker: %w", err)
		}
		w.Set("onmessage", p.onMsg)
		w.Set("onerror", p.onErr)
		w.Call("postMessage", map[string]any{"module": module})
		p.workers = append(p.workers, w)
	}
	return p, nil
}

// hashRegion queues the hashing of bytes start to end of blob, in chunks
// of cs bytes, on the next worker, and returns where the result will
// arrive.
func (p *hashPool) hashRegion(blob js.Value, start, end, cs int64) <-chan hashResult {
	ch := make(chan hashResult, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		ch <- hashResult{err: errPoolClosed}
		return ch
	}
	p.id++
	p.pending[p.id] = ch
	w := p.workers[p.next]
	p.next = (p.next + 1) % len(p.workers)
	w.Call("postMessage", map[string]any{"id": p.id, "blob": blob, "start": start, "end": end, "chunk": cs})
	return ch
}

// done delivers a worker's answer {id, hashes} or {id, error}, where
// error is {name, message}.
func (p *hashPool) done(msg js.Value) {
	id := msg.Get("id").Int()
	p.mu.Lock()
	ch, ok := p.pending[id]
	delete(p.pending, id)
	p.mu.Unlock()
	if !ok {
		return
	}
	if e := msg.Get("error"); e.Truthy() {
		ch <- hashResult{err: fmt.Errorf("hashing worker: %w", toError(e))}
		return
	}
	hexes := msg.Get("hashes").String()
	var r hashResult
	const width = 2 * len(swarm.Hash{})
	for len(hexes) >= width {
		var h swarm.Hash
		if err := h.UnmarshalText([]byte(hexes[:width])); err != nil {
			r.err = fmt.Errorf("hashing worker: %w", err)
			break
		}
		r.sums = append(r.sums, h)
		hexes = hexes[width:]
	}
	if r.err == nil && (hexes != "" || len(r.sums) == 0) {
		r.err = fmt.Errorf("hashing worker: malformed answer")
	}
	ch <- r
}

// stopped reports whether the pool was closed, or closed itself when a
// worker failed.
func (p *hashPool) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// close stops the workers and fails whatever is pending.
func (p *hashPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.workers {
		w.Call("terminate")
	}
	for id, ch := range p.pending {
		ch <- hashResult{err: errPoolClosed}
		delete(p.pending, id)
	}
	p.onMsg.Release()
	p.onErr.Release()
}
