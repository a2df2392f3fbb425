package tracker

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// wasmPath is the peer the app loads; `make build` writes it.
const wasmPath = "dist/tabswarm.wasm"

// assets serves the files of the web app. Each file is read, hashed and
// gzipped once, on its first request, and kept in memory.
type assets struct {
	fsys fs.FS
	log  *slog.Logger

	mu    sync.Mutex
	files map[string]*asset
}

// asset is one file, prepared once.
type asset struct {
	once  sync.Once
	err   error
	ctype string
	plain []byte
	gz    []byte // nil when gzip does not make it smaller
	etag  string // of plain; the gzip variant appends "-gz"
}

func newAssets(fsys fs.FS, log *slog.Logger) *assets {
	return &assets{fsys: fsys, log: log, files: make(map[string]*asset)}
}

// check logs an error when the app lacks its wasm peer.
func (a *assets) check() {
	if _, err := fs.Stat(a.fsys, wasmPath); err != nil {
		a.log.Error("tracker: the web app has no "+wasmPath+"; run make build (pages will load but cannot share)", "err", err)
	}
}

// ServeHTTP serves one file of the app; / is index.html. Directories are
// not listed.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	f, err := a.get(name)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, fs.ErrNotExist) {
			status = http.StatusNotFound
		} else {
			a.log.Error("tracker: reading app file", "name", name, "err", err)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	body, etag := f.plain, f.etag
	if f.gz != nil && acceptsGzip(r) {
		body, etag = f.gz, f.etag[:len(f.etag)-1]+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// get returns the prepared file, or an error wrapping fs.ErrNotExist.
func (a *assets) get(name string) (*asset, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrNotExist
	}
	a.mu.Lock()
	f := a.files[name]
	if f == nil {
		f = &asset{}
		a.files[name] = f
	}
	a.mu.Unlock()
	f.once.Do(func() { f.err = f.load(a.fsys, name) })
	if f.err != nil {
		a.mu.Lock()
		delete(a.files, name) // do not cache misses: the map stays bounded
		a.mu.Unlock()
		return nil, f.err
	}
	return f, nil
}

func (f *asset) load(fsys fs.FS, name string) error {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fs.ErrNotExist
	}
	if f.plain, err = fs.ReadFile(fsys, name); err != nil {
		return err
	}
	sum := sha256.Sum256(f.plain)
	f.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	f.ctype = contentType(name)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(f.plain)
	zw.Close()
	if buf.Len() < len(f.plain) {
		f.gz = buf.Bytes()
	}
	return nil
}

// contentType names a file's media type by its extension.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
