//go:build js

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"syscall/js"

	"tabswarm/internal/jsmem"
	"tabswarm/swarm"
)

// IndexedDB layout: database "tabswarm", version 1.
//   - "files": one record per file, keyed by digest:
//     {digest, key, manifest (JSON text)}.
//   - "chunks": one Blob per chunk, keyed by [key, index]. key is the
//     digest for a download and a random name for a shared file, whose
//     digest is known only once every chunk is read.
const (
	dbName      = "tabswarm"
	dbVersion   = 1
	filesStore  = "files"
	chunksStore = "chunks"
)

// idbLibrary is a swarm.Library in the tab's IndexedDB. Chunks are stored
// as Blobs, so the browser keeps their bytes out of wasm memory.
type idbLibrary struct {
	db   js.Value
	puts *putBatcher

	poolMu sync.Mutex
	pool   *hashPool // started by the first share that needs it
}

var _ swarm.Library = (*idbLibrary)(nil)

// idbChunks is the chunk store of one file.
type idbChunks struct {
	db   js.Value
	puts *putBatcher
	key  string
	m    *swarm.Manifest
}

var _ swarm.Chunks = (*idbChunks)(nil)

// openDB opens (creating on first use) the database called name: dbName
// for the app.
func openDB(ctx context.Context, name string) (*idbLibrary, error) {
	idb := js.Global().Get("indexedDB")
	if idb.IsUndefined() {
		return nil, fmt.Errorf("this browser has no IndexedDB")
	}
	req, err := call(idb, "open", name, dbVersion)
	if err != nil {
		return nil, err
	}
	upgrade := js.FuncOf(func(this js.Value, args []js.Value) any {
		db := req.Get("result")
		names := db.Get("objectStoreNames")
		if !names.Call("contains", filesStore).Bool() {
			db.Call("createObjectStore", filesStore)
		}
		if !names.Call("contains", chunksStore).Bool() {
			db.Call("createObjectStore", chunksStore)
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	db, err := awaitRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("opening IndexedDB: %w", err)
	}
	return &idbLibrary{db: db, puts: &putBatcher{db: db}}, nil
}

// awaitRequest waits for an IDBRequest and returns its result.
func awaitRequest(ctx context.Context, req js.Value) (js.Value, error) {
	if err := awaitEvent(ctx, req, "success", "error"); err != nil {
		return js.Value{}, err
	}
	return req.Get("result"), nil
}

// awaitTx waits for a transaction to commit.
func awaitTx(ctx context.Context, tx js.Value) error {
	return awaitEvent(ctx, tx, "complete", "error", "abort")
}

// awaitEvent waits for target to fire ok, or one of fail, whose error
// property becomes the Go error.
func awaitEvent(ctx context.Context, target js.Value, ok string, fail ...string) error {
	ch := make(chan error, 1)
	var fns []js.Func
	on := func(name string, f func() error) {
		fn := js.FuncOf(func(this js.Value, args []js.Value) any {
			select {
			case ch <- f():
			default:
			}
			return nil
		})
		fns = append(fns, fn)
		target.Set("on"+name, fn)
	}
	on(ok, func() error { return nil })
	for _, name := range fail {
		on(name, func() error { return toError(target.Get("error")) })
	}
	defer func() {
		for _, fn := range fns {
			fn.Release()
		}
	}()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tx starts a transaction over one store.
func (l *idbLibrary) tx(store, mode string) (js.Value, js.Value, error) {
	tx, err := call(l.db, "transaction", store, mode)
	if err != nil {
		return js.Value{}, js.Value{}, err
	}
	return tx, tx.Call("objectStore", store), nil
}

type fileRecord struct {
	Digest   string `json:"digest"`
	Key      string `json:"key"`
	Manifest string `json:"manifest"`
}

func (r fileRecord) js() js.Value {
	return js.ValueOf(map[string]any{"digest": r.Digest, "key": r.Key, "manifest": r.Manifest})
}

func recordFromJS(v js.Value) fileRecord {
	return fileRecord{Digest: v.Get("digest").String(), Key: v.Get("key").String(), Manifest: v.Get("manifest").String()}
}

// Files implements swarm.Library. A record whose manifest no longer
// validates is skipped, not trusted.
func (l *idbLibrary) Files(ctx context.Context) ([]*swarm.Manifest, error) {
	_, st, err := l.tx(filesStore, "readonly")
	if err != nil {
		return nil, err
	}
	all, err := awaitRequest(ctx, st.Call("getAll"))
	if err != nil {
		return nil, fmt.Errorf("listing files: %w", err)
	}
	var out []*swarm.Manifest
	for i := range all.Length() {
		r := recordFromJS(all.Index(i))
		m, err := swarm.ParseManifest([]byte(r.Manifest), swarm.Hash{})
		if err != nil {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

func (l *idbLibrary) record(ctx context.Context, d swarm.Hash) (fileRecord, bool, error) {
	_, st, err := l.tx(filesStore, "readonly")
	if err != nil {
		return fileRecord{}, false, err
	}
	v, err := awaitRequest(ctx, st.Call("get", d.String()))
	if err != nil {
		return fileRecord{}, false, err
	}
	if v.IsUndefined() {
		return fileRecord{}, false, nil
	}
	return recordFromJS(v), true, nil
}

// Open implements swarm.Library.
func (l *idbLibrary) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	r, ok, err := l.record(ctx, m.Digest)
	if err != nil {
		return nil, err
	}
	if !ok {
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		r = fileRecord{Digest: m.Digest.String(), Key: m.Digest.String(), Manifest: string(raw)}
		if err := l.putRecord(ctx, r); err != nil {
			return nil, err
		}
	}
	return &idbChunks{db: l.db, puts: l.puts, key: r.Key, m: m}, nil
}

func (l *idbLibrary) putRecord(ctx context.Context, r fileRecord) error {
	tx, st, err := l.tx(filesStore, "readwrite")
	if err != nil {
		return err
	}
	if _, err := call(st, "put", r.js(), r.Digest); err != nil {
		return err
	}
	if err := awaitTx(ctx, tx); err != nil {
		return fmt.Errorf("saving file record: %w", err)
	}
	return nil
}

// Remove implements swarm.Library.
func (l *idbLibrary) Remove(ctx context.Context, d swarm.Hash) error {
	r, ok, err := l.record(ctx, d)
	if err != nil || !ok {
		return err
	}
	tx, err := call(l.db, "transaction", js.ValueOf([]any{filesStore, chunksStore}), "readwrite")
	if err != nil {
		return err
	}
	tx.Call("objectStore", filesStore).Call("delete", r.Digest)
	tx.Call("objectStore", chunksStore).Call("delete", keyRange(r.Key))
	return awaitTx(ctx, tx)
}

// keyRange covers every chunk of the file stored under key.
func keyRange(key string) js.Value {
	return js.Global().Get("IDBKeyRange").Call("bound",
		js.ValueOf([]any{key, 0}), js.ValueOf([]any{key, js.Global().Get("Infinity")}))
}

var relaxed = js.ValueOf(map[string]any{"durability": "relaxed"})

func chunkKey(key string, i int) js.Value { return js.ValueOf([]any{key, i}) }

// Have implements swarm.Chunks.
func (c *idbChunks) Have(ctx context.Context) (swarm.Bitfield, error) {
	b := swarm.NewBitfield(c.m.NumChunks())
	st := c.db.Call("transaction", chunksStore, "readonly").Call("objectStore", chunksStore)
	keys, err := awaitRequest(ctx, st.Call("getAllKeys", keyRange(c.key)))
	if err != nil {
		return b, fmt.Errorf("reading chunk list: %w", err)
	}
	for i := range keys.Length() {
		if idx := keys.Index(i).Index(1).Int(); idx < b.Len() {
			b.Set(idx)
		}
	}
	return b, nil
}

// ReadChunk implements swarm.Chunks.
func (c *idbChunks) ReadChunk(ctx context.Context, i int) ([]byte, error) {
	blob, err := c.blob(ctx, i)
	if err != nil {
		return nil, err
	}
	buf, err := await(ctx, blob.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("reading chunk %d: %w", i, err)
	}
	return bytesFromJS(buf, nil), nil
}

func (c *idbChunks) blob(ctx context.Context, i int) (js.Value, error) {
	st := c.db.Call("transaction", chunksStore, "readonly").Call("objectStore", chunksStore)
	v, err := awaitRequest(ctx, st.Call("get", chunkKey(c.key, i)))
	if err != nil {
		return js.Value{}, fmt.Errorf("reading chunk %d: %w", i, err)
	}
	if v.IsUndefined() {
		return js.Value{}, fmt.Errorf("chunk %d: %w", i, swarm.ErrNoChunk)
	}
	return v, nil
}

// WriteChunk implements swarm.Chunks. The write is committed before it
// returns, so a chunk counted as held survives a reload.
func (c *idbChunks) WriteChunk(ctx context.Context, i int, data []byte) error {
	blob := jsmem.Blob(data, "")
	return c.puts.put(ctx, c.key, i, blob)
}

// putBatcher stores chunks for a database. Writes that arrive while a
// transaction commits go together in the next one, so a busy tab pays for
// one commit per batch instead of one per chunk. Each write returns once
// its transaction has committed, or with the error that aborted it.
type putBatcher struct {
	db js.Value

	mu      sync.Mutex
	queue   []putRequest
	running bool
}

type putRequest struct {
	key  string
	i    int
	blob js.Value
	done chan error
}

// maxBatch bounds the chunks one transaction stores.
const maxBatch = 16

func (b *putBatcher) put(ctx context.Context, key string, i int, blob js.Value) error {
	r := putRequest{key: key, i: i, blob: blob, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits batches until the queue is empty.
func (b *putBatcher) run() {
	for {
		b.mu.Lock()
		batch := b.queue[:min(len(b.queue), maxBatch)]
		b.queue = b.queue[len(batch):]
		if len(batch) == 0 {
			b.queue = nil
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		err := b.commit(batch)
		for _, r := range batch {
			if err != nil {
				r.done <- fmt.Errorf("storing chunk %d: %w", r.i, err)
				continue
			}
			r.done <- nil
		}
	}
}

func (b *putBatcher) commit(batch []putRequest) error {
	// Relaxed durability: committed once the OS has the data, without
	// waiting for a flush to disk. It survives a reload or a browser crash.
	tx, err := call(b.db, "transaction", chunksStore, "readwrite", relaxed)
	if err != nil {
		return err
	}
	st := tx.Call("objectStore", chunksStore)
	for _, r := range batch {
		if _, err := call(st, "put", r.blob, chunkKey(r.key, r.i)); err != nil {
			tx.Call("abort")
			return err
		}
	}
	return awaitTx(context.Background(), tx)
}

// fileBlob returns the whole file as one Blob made of the chunk Blobs, in
// order, without reading their bytes.
func (l *idbLibrary) fileBlob(ctx context.Context, m *swarm.Manifest) (js.Value, error) {
	r, ok, err := l.record(ctx, m.Digest)
	if err != nil {
		return js.Value{}, err
	}
	if !ok {
		return js.Value{}, swarm.ErrNotFound
	}
	_, st, err := l.tx(chunksStore, "readonly")
	if err != nil {
		return js.Value{}, err
	}
	parts, err := awaitRequest(ctx, st.Call("getAll", keyRange(r.Key)))
	if err != nil {
		return js.Value{}, err
	}
	if parts.Length() != m.NumChunks() {
		return js.Value{}, fmt.Errorf("%d of %d chunks stored: %w", parts.Length(), m.NumChunks(), swarm.ErrNoChunk)
	}
	return js.Global().Get("Blob").New(parts, js.ValueOf(map[string]any{"type": mediaType(m)})), nil
}

func mediaType(m *swarm.Manifest) string {
	if m.Type == "" {
		return "application/octet-stream"
	}
	return m.Type
}

// importFile cuts a picked File into chunks, hashes each, stores each, and
// returns the file's manifest. The hashes and writes of several chunks
// overlap. On worker threads (a plain-http page, no crypto.subtle) the
// bytes are read and hashed there: this thread only slices and stores,
// and the browser copies each slice into IndexedDB itself. progress is
// called with the bytes hashed so far.
func (l *idbLibrary) importFile(ctx context.Context, file js.Value, progress func(int64)) (*swarm.Manifest, error) {
	name, typ := file.Get("name").String(), file.Get("type").String()
	size := int64(file.Get("size").Float())
	cs := swarm.ChunkSize(size)
	var rnd [8]byte
	rand.Read(rnd[:])
	key := "import-" + hex.EncodeToString(rnd[:])
	n := int((size + cs - 1) / cs)
	hash := l.shareHasher(ctx)
	w := newChunkWriter(ctx, l.puts, key, maxImportWrites)
	fail := func(err error) (*swarm.Manifest, error) {
		w.wait()
		l.dropChunks(key)
		return nil, err
	}
	// Up to ahead chunks are being read and hashed at once: enough to keep
	// every worker busy, within importBytesAhead of memory.
	ahead := max(2, min(importChunksAhead, int(importBytesAhead/cs)))
	sums := make([]<-chan hashResult, 0, ahead)
	hashes := make([]swarm.Hash, 0, n)
	for i := 0; len(hashes) < n; {
		for i < n && len(sums) < ahead {
			chunk := file.Call("slice", int64(i)*cs, min(int64(i+1)*cs, size))
			sums = append(sums, hash(chunk))
			if err := w.put(i, chunk); err != nil {
				return fail(err)
			}
			i++
		}
		var r hashResult
		select {
		case r = <-sums[0]:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
		if r.err != nil {
			return fail(fmt.Errorf("hashing %s: %w", name, r.err))
		}
		hashes = append(hashes, r.sum)
		sums = sums[1:]
		progress(min(int64(len(hashes))*cs, size))
	}
	if err := w.wait(); err != nil {
		l.dropChunks(key)
		return nil, err
	}
	m := swarm.NewManifest(name, typ, size, hashes)
	if _, ok, err := l.record(ctx, m.Digest); err != nil || ok {
		// Already held (the same content shared again): keep the old copy.
		l.dropChunks(key)
		return m, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := l.putRecord(ctx, fileRecord{Digest: m.Digest.String(), Key: key, Manifest: string(raw)}); err != nil {
		l.dropChunks(key)
		return nil, err
	}
	return m, nil
}

// How far a share reads ahead of the oldest chunk not yet hashed.
const (
	importChunksAhead = 12
	importBytesAhead  = 32 << 20
)

// maxImportWrites bounds the chunk writes a share keeps in flight.
const maxImportWrites = 2 * maxBatch

// chunkWriter stores chunks with up to a bounded number of writes in
// flight, and keeps the first error.
type chunkWriter struct {
	ctx  context.Context
	puts *putBatcher
	key  string
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

func newChunkWriter(ctx context.Context, puts *putBatcher, key string, n int) *chunkWriter {
	return &chunkWriter{ctx: ctx, puts: puts, key: key, sem: make(chan struct{}, n)}
}

// put starts storing blob as chunk i, waiting while the bound is reached.
// It returns the first error of any earlier write.
func (w *chunkWriter) put(i int, blob js.Value) error {
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	if err := w.firstErr(); err != nil {
		<-w.sem
		return err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		if err := w.puts.put(w.ctx, w.key, i, blob); err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
		}
	}()
	return nil
}

func (w *chunkWriter) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// wait waits for every write and returns the first error.
func (w *chunkWriter) wait() error {
	w.wg.Wait()
	return w.firstErr()
}

// dropChunks deletes the chunks stored under key, in the background.
func (l *idbLibrary) dropChunks(key string) {
	tx, st, err := l.tx(chunksStore, "readwrite")
	if err == nil {
		st.Call("delete", keyRange(key))
		_ = tx
	}
}
