package e2e

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// runnerHTML loads a Go wasm test binary, after the page's SHA-256
// scripts it tests, and records its exit code.
const runnerHTML = `<!doctype html><script src="wasm_exec.js"></script>` +
	`<script src="sha256.umd.min.js"></script><script src="sha256.js"></script><script src="run.js"></script>`

const runnerJS = `const go = new Go();
go.argv = ["wasm.test", "-test.v"];
go.exit = (code) => { window.__exitCode = code; };
WebAssembly.instantiateStreaming(fetch("wasm.test"), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((err) => { console.error(err); window.__exitCode = -1; });`

// TestIndexedDBConformance runs the wasm package's tests, among them the
// store conformance suite against IndexedDB, in a Chromium tab: Node, which
// runs the other wasm tests, has no IndexedDB.
func TestIndexedDBConformance(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	build := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "wasm.test"), "./wasm")
	build.Dir = ".."
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm tests: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), wasmExec, 0o644)
	for _, f := range []string{"hash-wasm/sha256.umd.min.js", "sha256.js"} {
		b, err := os.ReadFile(filepath.Join("..", "static", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(runnerHTML), 0o644)
	os.WriteFile(filepath.Join(dir, "run.js"), []byte(runnerJS), 0o644)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	p := e.newBlankPerson(t, "idb")
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+ln.Addr().String()+"/")); err != nil {
		t.Fatal(err)
	}
	var code int
	err = poll(ctx, 2*time.Minute, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		v, err := evalJS[*int](ctx, `window.__exitCode ?? null`)
		if err != nil || v == nil {
			return false, err
		}
		code = *v
		return true, nil
	})
	if err != nil {
		t.Fatalf("the wasm tests did not finish: %v\n%s", err, p.dump())
	}
	if code != 0 {
		t.Fatalf("wasm tests in Chromium exited %d (their output is in the log above)", code)
	}
	// The IndexedDB tests skip where there is no IndexedDB (Node): here
	// each must have run and passed.
	p.waitConsole(t, "--- PASS: TestIndexedDBLibrary", 5*time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.console {
		if strings.Contains(l, "--- SKIP") {
			t.Errorf("a wasm test skipped in Chromium: %s", l)
		}
	}
}
