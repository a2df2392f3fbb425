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

// shareHasher returns how a share hashes a chunk, given as a Blob: with
// crypto.subtle when the page may use it, else on the library's hashing
// workers, else (no workers) in Go on this thread.
func (l *idbLibrary) shareHasher(ctx context.Context) func(chunk js.Value) <-chan hashResult {
	if pool := l.hashPool(ctx); pool != nil {
		return pool.hash
	}
	return func(chunk js.Value) <-chan hashResult {
		ch := make(chan hashResult, 1)
		go func() {
			var r hashResult
			ab, err := await(ctx, chunk.Call("arrayBuffer"))
			switch {
			case err != nil:
				r.err = fmt.Errorf("reading: %w", err)
			case hasSubtle():
				r.sum, r.err = digestJS(ctx, ab)
			default:
				r.sum = swarm.HashChunk(bytesFromJS(ab, nil))
			}
			ch <- r
		}()
		return ch
	}
}

// hashPool starts the library's hashing workers on first use: one per
// core, at most four. It returns nil, and logs why, when they cannot run;
// the next share tries again.
func (l *idbLibrary) hashPool(ctx context.Context) *hashPool {
	if hasSubtle() {
		return nil // the browser's own hashing is faster still
	}
	l.poolMu.Lock()
	defer l.poolMu.Unlock()
	if l.pool == nil || l.pool.stopped() {
		n := min(max(js.Global().Get("navigator").Get("hardwareConcurrency").Int(), 1), 4)
		p, err := newHashPool(ctx, n)
		if err != nil {
			slog.Warn("hashing on the page's thread", "err", err)
			return nil
		}
		slog.Info("hashing workers started", "workers", n)
		l.pool = p
	}
	return l.pool
}

// hashPool reads and hashes chunks, given as Blobs, on Web Workers that
// run Go's SHA-256 (static/hasher.js with dist/hasher.wasm). A share on a
// plain-http page, which has no crypto.subtle, then hashes on every core
// while the peer's own thread only slices and stores. Posting a Blob to a
// worker passes a handle, not its bytes.
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

type hashResult struct {
	sum swarm.Hash
	err error
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

// hash queues the Blob chunk on the next worker and returns where its
// result will arrive.
func (p *hashPool) hash(chunk js.Value) <-chan hashResult {
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
	w.Call("postMessage", map[string]any{"id": p.id, "chunk": chunk})
	return ch
}

// done delivers a worker's answer {id, hash} or {id, error}.
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
		ch <- hashResult{err: fmt.Errorf("hashing worker: %s", e.String())}
		return
	}
	var r hashResult
	if err := r.sum.UnmarshalText([]byte(msg.Get("hash").String())); err != nil {
		r.err = fmt.Errorf("hashing worker: %w", err)
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
