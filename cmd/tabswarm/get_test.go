package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
)

// shortTimeouts makes get give up quickly for the rest of the test.
func shortTimeouts(t *testing.T) {
	c, l := connectTimeout, lookupTimeout
	connectTimeout, lookupTimeout = time.Second, time.Second
	t.Cleanup(func() { connectTimeout, lookupTimeout = c, l })
}

// startNode runs a node on lib until the test ends.
func startNode(t *testing.T, trackerURL string, lib swarm.Library) {
	t.Helper()
	tr, err := parseTracker(trackerURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	node := newNode(tr.ws, "", lib, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		node.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := node.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
}

// shareFile seeds a random file of n bytes from an in-test node whose
// library is wrap(the file store), and returns its bytes and manifest.
func shareFile(t *testing.T, url string, n int, wrap func(swarm.Library) swarm.Library) ([]byte, *swarm.Manifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.bin")
	data := writeRandom(t, path, n, uint64(n))
	lib := filestore.New(t.TempDir())
	t.Cleanup(func() { lib.Close() })
	m, err := lib.Share(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	var l swarm.Library = lib
	if wrap != nil {
		l = wrap(lib)
	}
	startNode(t, url, l)
	return data, m
}

// gatedLibrary serves budget chunk reads, then blocks further reads until
// open is called; it records the chunks read after that. A blocked read
// then fails, or with hold is served.
type gatedLibrary struct {
	swarm.Library
	gate chan struct{}
	hold bool

	mu     sync.Mutex
	budget int
	after  map[int]int // reads per chunk once open
}

type gatedChunks struct {
	swarm.Chunks
	l *gatedLibrary
}

func (l *gatedLibrary) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	c, err := l.Library.Open(ctx, m)
	return gatedChunks{c, l}, err
}

func (l *gatedLibrary) open() { close(l.gate) }

func (c gatedChunks) ReadChunk(ctx context.Context, i int) ([]byte, error) {
	l := c.l
	select {
	case <-l.gate:
		l.mu.Lock()
		l.after[i]++
		l.mu.Unlock()
		return c.Chunks.ReadChunk(ctx, i)
	default:
	}
	l.mu.Lock()
	ok := l.budget > 0
	l.budget--
	l.mu.Unlock()
	if ok {
		return c.Chunks.ReadChunk(ctx, i)
	}
	select { // started before the gate opened: served only with hold
	case <-l.gate:
		if l.hold {
			return c.Chunks.ReadChunk(ctx, i)
		}
	case <-ctx.Done():
	}
	return nil, fmt.Errorf("gated: %w", swarm.ErrNoChunk)
}

// savedChunks reads a partial download's state file: which chunks it holds.
func savedChunks(t *testing.T, target string, n int) swarm.Bitfield {
	t.Helper()
	raw, err := os.ReadFile(target + ".part.json")
	if err != nil {
		return swarm.NewBitfield(n)
	}
	var st struct{ Have []byte }
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	b, ok := swarm.BitfieldFromBytes(n, st.Have)
	if !ok {
		t.Fatalf("bad state file %s", raw)
	}
	return b
}

// TestGetResumes interrupts a get once the seeder has served a few chunks,
// then runs it again: it checks the chunks it holds, saying so, and
// finishes without asking for those chunks again.
func TestGetResumes(t *testing.T) {
	url := startTracker(t)
	const served = 3
	gated := &gatedLibrary{gate: make(chan struct{}), budget: served, after: make(map[int]int)}
	data, m := shareFile(t, url, 4<<20, func(l swarm.Library) swarm.Library { gated.Library = l; return gated })
	n := m.NumChunks()
	out := filepath.Join(t.TempDir(), "out.bin")

	first := start(t, "get", m.Digest.String(), "--tracker", url, "-o", out)
	for deadline := time.Now().Add(20 * time.Second); savedChunks(t, out, n).Count() < served; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never saved %d chunks; stderr %s", served, first.errOut.String())
		}
	}
	err := first.stop()
	if exitCode(err) != 130 || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("interrupted get: %v (exit %d)", err, exitCode(err))
	}
	held := savedChunks(t, out, n)
	if held.Count() != served {
		t.Fatalf("saved %d chunks, want %d", held.Count(), served)
	}

	gated.open()
	_, stderr, err := runCmd(t, "get", m.Digest.String(), "--tracker", url, "-o", out)
	if err != nil {
		t.Fatalf("resumed get: %v; stderr %s", err, stderr)
	}
	// It says that it checks the chunks already there, from the start.
	for _, want := range []string{"out.bin: checking 0 of 3 chunks already here\n", "out.bin: checking 3 of 3 chunks already here\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("resumed get's output lacks %q:\n%s", want, stderr)
		}
	}
	sameFile(t, out, data)
	gated.mu.Lock()
	defer gated.mu.Unlock()
	for i := range n {
		switch {
		case held.Has(i) && gated.after[i] != 0:
			t.Errorf("chunk %d fetched again after the resume", i)
		case !held.Has(i) && gated.after[i] == 0:
			t.Errorf("chunk %d never served", i)
		}
	}
}

func TestGetUnknownDigest(t *testing.T) {
	shortTimeouts(t)
	url := startTracker(t)
	_, stderr, err := runCmd(t, "get", strings.Repeat("ab", 32), "--tracker", url)
	if exitCode(err) != 4 || !strings.Contains(err.Error(), "no peer has this file") {
		t.Fatalf("err %v (exit %d); stderr %s", err, exitCode(err), stderr)
	}
}

func TestGetTrackerUnreachable(t *testing.T) {
	shortTimeouts(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{
		{"get", strings.Repeat("ab", 32), "--tracker", "http://" + addr},
		{"seed", writeTemp(t), "--tracker", "http://" + addr},
	} {
		_, _, err := runCmd(t, args...)
		if exitCode(err) != 3 || !strings.Contains(err.Error(), "tracker unreachable") {
			t.Errorf("%s: %v (exit %d)", args[0], err, exitCode(err))
		}
	}
}

func writeTemp(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "small.txt")
	os.WriteFile(path, []byte("hello"), 0o644)
	return path
}

// unwritableDir returns a folder in which creating a file fails with a
// permission error, even as root.
func unwritableDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return dir
	}
	// sysfs refuses new files to root too, with EACCES.
	err := os.WriteFile("/sys/tabswarm-test", nil, 0o644)
	if !errors.Is(err, os.ErrPermission) {
		t.Skipf("no folder refuses root here (/sys: %v)", err)
	}
	return "/sys"
}

func TestGetPermissionDenied(t *testing.T) {
	url := startTracker(t)
	_, m := shareFile(t, url, 100, nil)
	raw, _ := json.Marshal(m)
	p2t := filepath.Join(t.TempDir(), "f.p2t")
	os.WriteFile(p2t, raw, 0o644)
	out := filepath.Join(unwritableDir(t), "out.bin")
	for _, in := range []string{m.Digest.String(), p2t} {
		_, _, err := runCmd(t, "get", in, "--tracker", url, "-o", out)
		if exitCode(err) != 6 || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("get %s: %v (exit %d)", filepath.Base(in), err, exitCode(err))
		}
	}
}

func TestGetUsage(t *testing.T) {
	d := strings.Repeat("ab", 32)
	for _, args := range [][]string{
		{"get"},
		{"get", d},                               // no tracker
		{"get", d, d, "--tracker", "http://h:1"}, // two files
		{"get", "nothex", "--tracker", "http://h:1"}, // not a digest nor a file
		{"get", "http://h:1/#nothex"},                // link without a digest
		{"get", d, "--tracker", "gopher://h"},
	} {
		if _, _, err := runCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want usage", args, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.p2t")
	os.WriteFile(bad, []byte(`{"version":1}`), 0o644)
	if _, _, err := runCmd(t, "get", bad, "--tracker", "http://h:1"); !errors.Is(err, errUsage) {
		t.Errorf("bad p2t: %v", err)
	}
}

func TestParseSource(t *testing.T) {
	d := strings.Repeat("0f", 32)
	if s, err := parseSource(strings.ToUpper(d)); err != nil || s.digest.String() != d || s.tracker != "" {
		t.Errorf("digest: %+v, %v", s, err)
	}
	for _, link := range []string{"http://10.0.0.2:8080/#" + d, "http://10.0.0.2:8080/?d=" + d, "http://10.0.0.2:8080/api/files/" + d + ".p2t"} {
		if s, err := parseSource(link); err != nil || s.digest.String() != d || s.tracker != "http://10.0.0.2:8080" {
			t.Errorf("link %s: %+v, %v", link, s, err)
		}
	}
	m := swarm.NewManifest("a", "", 1, []swarm.Hash{swarm.HashChunk([]byte{1})})
	raw, _ := json.Marshal(m)
	p2t := filepath.Join(t.TempDir(), "a.p2t")
	os.WriteFile(p2t, raw, 0o644)
	if s, err := parseSource(p2t); err != nil || s.digest != m.Digest || s.manifest == nil {
		t.Errorf("p2t: %+v, %v", s, err)
	}
	os.WriteFile(p2t, append(raw[:len(raw)-1], `,"x":1}`...), 0o644)
	if _, err := parseSource(p2t); !errors.Is(err, swarm.ErrBadManifest) {
		t.Errorf("bad p2t: %v", err)
	}
}

func TestTargetPath(t *testing.T) {
	dir := t.TempDir()
	m := func(name string) *swarm.Manifest { return &swarm.Manifest{Name: name, Digest: swarm.Hash{0xab}} }
	fallback := "ab00000000000000"
	for _, c := range []struct{ out, name, want string }{
		{"", "a.txt", "a.txt"},
		{"", "../../etc/passwd", "passwd"},
		{"", `C:\x\y.doc`, "y.doc"},
		{"", "..", fallback},
		{"", "dir/", fallback},
		{"", " \x00\x1b ", fallback},
		{"", "bad\nname\t.txt", "badname.txt"},
		{"", ".bashrc", "bashrc"},
		{"", "photo\u202Egpj.exe", "photogpj.exe"},
		{"", "aux.txt", "_aux.txt"},
		{dir, "a.txt", filepath.Join(dir, "a.txt")},
		{filepath.Join(dir, "new") + "/", "a.txt", filepath.Join(dir, "new", "a.txt")},
		{filepath.Join(dir, "b.bin"), "a.txt", filepath.Join(dir, "b.bin")},
	} {
		if got := targetPath(c.out, m(c.name)); got != c.want {
			t.Errorf("targetPath(%q, %q) = %q, want %q", c.out, c.name, got, c.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{errUsage, 2},
		{fmt.Errorf("x: %w", swarm.ErrNoTracker), 3},
		{fmt.Errorf("x: %w", swarm.ErrNoPeers), 4},
		{fmt.Errorf("x: %w", swarm.ErrQuota), 5},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, 6},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EPERM}, 6},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EROFS}, 6},
		{fmt.Errorf("x: %w", errInterrupted), 130},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
