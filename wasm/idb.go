//go:build js

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall/js"

	"tabswarm/internal/jsmem"
	"tabswarm/swarm"
)

// IndexedDB layout: database "tabswarm", version 2.
//   - "files": one record per file, keyed by digest:
//     {digest, key, manifest (JSON text)}.
//   - "chunks": one Blob per downloaded chunk, keyed by [key, index]. key
//     is the digest (a random name in shares stored by version 1).
//   - "contents" (version 2): the whole file as one Blob, keyed by digest,
//     for a file shared from this tab. Storing the picked File costs the
//     browser one file copy, where a Blob per chunk cost a copy, a record
//     and an index entry each (1 GiB: 0.3 CPU-seconds against 5.5 to 8).
const (
	dbName        = "tabswarm"
	dbVersion     = 2
	filesStore    = "files"
	chunksStore   = "chunks"
	contentsStore = "contents"
)

// idbLibrary is a swarm.Library in the tab's IndexedDB. Chunks are stored
// as Blobs, so the browser keeps their bytes out of wasm memory.
type idbLibrary struct {
	db   js.Value
	puts *putBatcher

	onVersionChange js.Func // closes db when a newer page upgrades it
}

var _ swarm.Library = (*idbLibrary)(nil)

// idbChunks is the chunk store of one file.
type idbChunks struct {
	db    js.Value
	puts  *putBatcher
	key   string
	m     *swarm.Manifest
	whole js.Value // the file's contents record, or undefined
}

var _ swarm.Chunks = (*idbChunks)(nil)

// dbEvents tells the page what happens to its database connection; a nil
// func is not called.
type dbEvents struct {
	// Blocked: the open waits for other tabs, which hold an older version
	// of the database open, to close it.
	Blocked func()
	// Closed: a newer version of the page, in another tab, asked to
	// upgrade the database; this tab closed its connection, so it stores
	// nothing more until it is reloaded.
	Closed func()
}

// openDB opens (creating on first use) the database called name: dbName
// for the app. The connection closes itself when a newer version of the
// page asks to upgrade the database, so that the new one is never kept
// waiting.
func openDB(ctx context.Context, name string, ev dbEvents) (*idbLibrary, error) {
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
		for _, name := range []string{filesStore, chunksStore, contentsStore} {
			if !names.Call("contains", name).Bool() {
				db.Call("createObjectStore", name)
			}
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	blocked := js.FuncOf(func(this js.Value, args []js.Value) any {
		if ev.Blocked != nil {
			go ev.Blocked()
		}
		return nil
	})
	defer blocked.Release()
	req.Set("onblocked", blocked)
	db, err := awaitRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("opening IndexedDB: %w", err)
	}
	l := &idbLibrary{db: db, puts: &putBatcher{db: db}}
	l.onVersionChange = js.FuncOf(func(this js.Value, args []js.Value) any {
		db.Call("close")
		db.Set("onversionchange", js.Null())
		go func() {
			l.onVersionChange.Release()
			if ev.Closed != nil {
				ev.Closed()
			}
		}()
		return nil
	})
	db.Set("onversionchange", l.onVersionChange)
	return l, nil
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
	return openTx(l.db, store, mode)
}

// openTx starts a transaction over one store of db. A connection that is
// closed or closing throws; that becomes the error.
func openTx(db js.Value, store, mode string) (js.Value, js.Value, error) {
	tx, err := call(db, "transaction", store, mode)
	if err != nil {
		return js.Value{}, js.Value{}, fmt.Errorf("opening a transaction: %w", err)
	}
	st, err := call(tx, "objectStore", store)
	if err != nil {
		return js.Value{}, js.Value{}, err
	}
	return tx, st, nil
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
	whole, err := l.contents(ctx, m.Digest)
	if err != nil {
		return nil, err
	}
	return &idbChunks{db: l.db, puts: l.puts, key: r.Key, m: m, whole: whole}, nil
}

// contents returns the whole-file Blob stored for d, or undefined.
func (l *idbLibrary) contents(ctx context.Context, d swarm.Hash) (js.Value, error) {
	_, st, err := l.tx(contentsStore, "readonly")
	if err != nil {
		return js.Value{}, err
	}
	v, err := awaitRequest(ctx, st.Call("get", d.String()))
	if err != nil {
		return js.Value{}, fmt.Errorf("reading the stored file: %w", err)
	}
	return v, nil
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
	tx, err := call(l.db, "transaction", js.ValueOf([]any{filesStore, chunksStore, contentsStore}), "readwrite")
	if err != nil {
		return err
	}
	if _, err := catch("delete", func() js.Value {
		tx.Call("objectStore", filesStore).Call("delete", r.Digest)
		tx.Call("objectStore", chunksStore).Call("delete", keyRange(r.Key))
		return tx.Call("objectStore", contentsStore).Call("delete", r.Digest)
	}); err != nil {
		return fmt.Errorf("removing %s: %w", d, err)
	}
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
	if !c.whole.IsUndefined() {
		for i := range b.Len() {
			b.Set(i)
		}
		return b, nil
	}
	_, st, err := openTx(c.db, chunksStore, "readonly")
	if err != nil {
		return b, fmt.Errorf("reading chunk list: %w", err)
	}
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
	buf, err := c.ReadBody(ctx, i)
	if err != nil {
		return nil, err
	}
	return bytesFromJS(buf.(js.Value), nil), nil
}

// ReadBody implements swarm.BodyReader: the chunk as an ArrayBuffer, read
// from its Blob without entering Go's memory.
func (c *idbChunks) ReadBody(ctx context.Context, i int) (any, error) {
	blob, err := c.blob(ctx, i)
	if err != nil {
		return nil, err
	}
	buf, err := await(ctx, blob.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("reading chunk %d: %w", i, err)
	}
	if n, want := buf.Get("byteLength").Int(), c.m.ChunkLen(i); n != want {
		return nil, fmt.Errorf("reading chunk %d: %w: %d bytes, want %d", i, errUnreadable, n, want)
	}
	return buf, nil
}

func (c *idbChunks) blob(ctx context.Context, i int) (js.Value, error) {
	if !c.whole.IsUndefined() {
		off := int64(i) * c.m.ChunkSize
		return c.whole.Call("slice", off, off+int64(c.m.ChunkLen(i))), nil
	}
	_, st, err := openTx(c.db, chunksStore, "readonly")
	if err != nil {
		return js.Value{}, fmt.Errorf("reading chunk %d: %w", i, err)
	}
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

// blobClass is the page's Blob constructor.
var blobClass = js.Global().Get("Blob")

// WriteBody implements swarm.BodyWriter: body is the Blob of a chunk the
// page's receive pump assembled, stored as WriteChunk stores its own.
func (c *idbChunks) WriteBody(ctx context.Context, i int, body any) error {
	blob, ok := body.(js.Value)
	if !ok || !blob.InstanceOf(blobClass) {
		return fmt.Errorf("chunk %d: a body of %T, want a Blob", i, body)
	}
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

// fileBlob returns the whole file as one Blob: the stored contents of a
// file shared here, or else the chunk Blobs in order, without reading
// their bytes.
func (l *idbLibrary) fileBlob(ctx context.Context, m *swarm.Manifest) (js.Value, error) {
	r, ok, err := l.record(ctx, m.Digest)
	if err != nil {
		return js.Value{}, err
	}
	if !ok {
		return js.Value{}, swarm.ErrNotFound
	}
	opts := js.ValueOf(map[string]any{"type": mediaType(m)})
	whole, err := l.contents(ctx, m.Digest)
	if err != nil {
		return js.Value{}, err
	}
	if !whole.IsUndefined() {
		return blobClass.New(js.ValueOf([]any{whole}), opts), nil
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
	return blobClass.New(parts, opts), nil
}

func mediaType(m *swarm.Manifest) string {
	if m.Type == "" {
		return "application/octet-stream"
	}
	return m.Type
}

// importFile hashes a picked File chunk by chunk, stores it whole, and
// returns its manifest. Several runs of chunks are hashed at once: on
// worker threads (a plain-http page, no crypto.subtle), which read the
// bytes themselves, so this thread only hands out the runs. The file and
// its record are stored in one transaction, once every chunk is hashed,
// so a failed share leaves nothing behind. progress is called with the
// bytes hashed so far.
func (l *idbLibrary) importFile(ctx context.Context, file js.Value, h runHasher, progress func(int64)) (*swarm.Manifest, error) {
	name, typ := file.Get("name").String(), file.Get("type").String()
	size := int64(file.Get("size").Float())
	cs := swarm.ChunkSize(size)
	n := int((size + cs - 1) / cs)
	// The file is hashed in runs of whole chunks, as many at once as the
	// hasher takes.
	hash, run := h.hash, swarm.RunLen(cs, h.run)
	jobs := int(max(2, h.ahead/run))
	sums := make([]<-chan hashResult, 0, jobs)
	hashes := make([]swarm.Hash, 0, n)
	for off := int64(0); off < size || len(sums) > 0; {
		for off < size && len(sums) < jobs {
			sums = append(sums, hash(file, off, min(off+run, size), cs))
			off += run
		}
		var r hashResult
		select {
		case r = <-sums[0]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err != nil {
			return nil, fmt.Errorf("hashing %s: %w", name, r.err)
		}
		hashes = append(hashes, r.sums...)
		sums = sums[1:]
		progress(min(int64(len(hashes))*cs, size))
	}
	if len(hashes) != n {
		return nil, fmt.Errorf("hashing %s: %d chunk hashes for %d chunks", name, len(hashes), n)
	}
	m := swarm.NewManifest(name, typ, size, hashes)
	if _, ok, err := l.record(ctx, m.Digest); err != nil || ok {
		return m, err // already held (the same content shared again): keep it
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	r := fileRecord{Digest: m.Digest.String(), Key: m.Digest.String(), Manifest: string(raw)}
	tx, err := call(l.db, "transaction", js.ValueOf([]any{filesStore, contentsStore}), "readwrite")
	if err != nil {
		return nil, err
	}
	if _, err := call(tx.Call("objectStore", contentsStore), "put", file, r.Digest); err != nil {
		tx.Call("abort")
		return nil, fmt.Errorf("storing %s: %w", name, err)
	}
	if _, err := call(tx.Call("objectStore", filesStore), "put", r.js(), r.Digest); err != nil {
		tx.Call("abort")
		return nil, fmt.Errorf("storing %s: %w", name, err)
	}
	if err := awaitTx(ctx, tx); err != nil {
		return nil, fmt.Errorf("storing %s: %w", name, err)
	}
	return m, nil
}
