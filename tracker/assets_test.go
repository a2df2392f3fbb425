package tracker

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAppAssets(t *testing.T) {
	wasm := bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00 compressible "), 4096)
	app := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>tabswarm</title>" + strings.Repeat(" ", 500))},
		"app.js":             {Data: []byte("console.log('hi')")},
		"style.css":          {Data: []byte("body{}")},
		"dist/tabswarm.wasm": {Data: wasm},
		"dist/wasm_exec.js":  {Data: []byte("// go")},
	}
	srv := httptest.NewServer(New(Options{App: app}).Handler())
	defer srv.Close()
	get := func(path, acceptEncoding, ifNoneMatch string) (*http.Response, []byte) {
		t.Helper()
		h := map[string]string{}
		if acceptEncoding != "" {
			h["Accept-Encoding"] = acceptEncoding
		}
		if ifNoneMatch != "" {
			h["If-None-Match"] = ifNoneMatch
		}
		return fetch(t, srv.URL+path, h)
	}

	resp, gz := get("/dist/tabswarm.wasm", "br, gzip;q=0.8", "")
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != "application/wasm" || h.Get("Content-Encoding") != "gzip" ||
		h.Get("Vary") != "Accept-Encoding" || h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" {
		t.Fatalf("gzip wasm: %d %v", resp.StatusCode, h)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, wasm) {
		t.Fatalf("gunzipped wasm differs (err %v)", err)
	}
	if len(gz) >= len(wasm) {
		t.Errorf("gzip %d bytes, plain %d", len(gz), len(wasm))
	}
	gzTag := h.Get("ETag")

	resp, body := get("/dist/tabswarm.wasm", "", "")
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, wasm) || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("plain wasm: %v, %d bytes", resp.Header, len(body))
	}
	if plainTag := resp.Header.Get("ETag"); plainTag == "" || plainTag == gzTag {
		t.Errorf("ETags: plain %q, gzip %q; want two different ones", plainTag, gzTag)
	}
	if resp, _ := get("/dist/tabswarm.wasm", "gzip;q=0", ""); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got gzip")
	}

	// Revalidation.
	if resp, body := get("/dist/tabswarm.wasm", "gzip", gzTag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %d, %d bytes; want 304", resp.StatusCode, len(body))
	}

	for path, ctype := range map[string]string{
		"/":                  "text/html; charset=utf-8",
		"/index.html":        "text/html; charset=utf-8",
		"/app.js":            "text/javascript; charset=utf-8",
		"/style.css":         "text/css; charset=utf-8",
		"/dist/wasm_exec.js": "text/javascript; charset=utf-8",
	} {
		if resp, _ := get(path, "gzip", ""); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %s, want %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), ctype)
		}
	}
	for _, path := range []string{"/nope.js", "/dist", "/dist/", "/../index.html/x", "/dist/nope.wasm"} {
		if resp, _ := get(path, "", ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestAppWithoutWasm(t *testing.T) {
	var logs bytes.Buffer
	tr := New(Options{App: fstest.MapFS{"index.html": {Data: []byte("x")}}, Logger: newTextLogger(&logs)})
	tr.app.check()
	if !strings.Contains(logs.String(), "run make build") {
		t.Errorf("log %q does not say to run make build", logs.String())
	}
	srv := httptest.NewServer(tr.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dist/tabswarm.wasm")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing wasm: %d, want 404", resp.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"deflate, gzip":      true,
		"gzip;q=0":           false,
		"gzip; q=0.5":        true,
		"br":                 false,
		"x-gzip":             false,
		"identity, gzip;q=0": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %t, want %t", header, got, want)
		}
	}
}
