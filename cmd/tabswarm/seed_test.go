package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
	"tabswarm/tracker"
)

// startTracker serves a tracker on loopback and returns its http:// URL.
func startTracker(t *testing.T) string {
	t.Helper()
	return startTrackerWith(t, tracker.Options{})
}

// startTrackerWith is startTracker with a configured tracker.
func startTrackerWith(t *testing.T, opts tracker.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trk := tracker.New(opts)
	srv := &http.Server{Handler: trk.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		trk.Close()
	})
	return "http://" + ln.Addr().String()
}

// started is a run in the background.
type started struct {
	out, errOut *syncBuffer
	done        chan error
	cancel      context.CancelFunc
}

// start runs args in the background until the test ends or stop is called.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{out: new(syncBuffer), errOut: new(syncBuffer), done: make(chan error, 1), cancel: cancel}
	go func() { s.done <- run(ctx, args, s.out, s.errOut) }()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop cancels the run and returns its result.
func (s *started) stop() error {
	s.cancel()
	err := <-s.done
	s.done <- err
	return err
}

// waitOut waits until the run's stdout matches re and returns the match's
// first group.
func (s *started) waitOut(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := rx.FindStringSubmatch(s.out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("%v returned early: %v; stderr: %s", re, err, s.errOut.String())
		default:
		}
	}
	t.Fatalf("no %v in stdout %q; stderr %q", re, s.out.String(), s.errOut.String())
	return ""
}

// runCmd runs args to the end and returns stdout, stderr and the error.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut syncBuffer
	err := run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeRandom(t *testing.T, path string, n int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d seeded", path, len(got), len(want))
	}
}

// manifestOf hashes the file at path.
func manifestOf(t *testing.T, path string) *swarm.Manifest {
	t.Helper()
	lib := filestore.New(t.TempDir())
	defer lib.Close()
	m, err := lib.Share(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var digestLine = `(?m)^([0-9a-f]{64})  `

// TestSeedAndGet seeds with the seed command and downloads with get, by
// digest, by share link and by .p2t file, each byte-identical.
func TestSeedAndGet(t *testing.T) {
	url := startTracker(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "movie.bin")
	data := writeRandom(t, src, 3<<20+12345, 1)
	seeder := start(t, "seed", src, "--tracker", url)
	digest := seeder.waitOut(t, digestLine)
	if link := seeder.waitOut(t, `(http://\S+)`); link != url+"/#"+digest {
		t.Fatalf("share link %q, want %q", link, url+"/#"+digest)
	}

	out := filepath.Join(t.TempDir(), "out.bin")
	stdout, stderr, err := runCmd(t, "get", digest, "--tracker", url, "-o", out)
	if err != nil {
		t.Fatalf("get: %v; stderr %s", err, stderr)
	}
	if strings.TrimSpace(stdout) != out {
		t.Fatalf("get printed %q, want %q", stdout, out)
	}
	sameFile(t, out, data)
	if !strings.Contains(stderr, "100.0%") {
		t.Errorf("no final progress line in %q", stderr)
	}
	for _, leftover := range []string{out + ".part", out + ".part.json"} {
		if _, err := os.Stat(leftover); !os.IsNotExist(err) {
			t.Errorf("%s left behind", leftover)
		}
	}

	// A share link names the tracker; -o a folder keeps the file's name.
	into := t.TempDir()
	if _, stderr, err := runCmd(t, "get", url+"/#"+digest, "-o", into); err != nil {
		t.Fatalf("get link: %v; stderr %s", err, stderr)
	}
	sameFile(t, filepath.Join(into, "movie.bin"), data)

	// A .p2t manifest file.
	raw, _ := json.Marshal(manifestOf(t, src))
	p2t := filepath.Join(t.TempDir(), "movie.p2t")
	os.WriteFile(p2t, raw, 0o644)
	out2 := filepath.Join(t.TempDir(), "from-p2t.bin")
	if _, stderr, err := runCmd(t, "get", p2t, "--tracker", url, "-o", out2); err != nil {
		t.Fatalf("get p2t: %v; stderr %s", err, stderr)
	}
	sameFile(t, out2, data)

	// The same file already there is done; another file is never overwritten.
	if stdout, stderr, err := runCmd(t, "get", digest, "--tracker", url, "-o", out); err != nil || strings.TrimSpace(stdout) != out {
		t.Fatalf("get onto the same file: %v, %q; stderr %s", err, stdout, stderr)
	}
	other := filepath.Join(t.TempDir(), "other.bin")
	os.WriteFile(other, []byte("mine"), 0o644)
	if _, _, err := runCmd(t, "get", digest, "--tracker", url, "-o", other); err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("get onto another file: %v", err)
	}
	sameFile(t, other, []byte("mine"))

	if err := seeder.stop(); err != nil {
		t.Fatalf("seed after interrupt: %v", err)
	}
	// With the seeder gone, a .p2t whose file is already there needs no peer.
	if stdout, stderr, err := runCmd(t, "get", p2t, "--tracker", url, "-o", out2); err != nil || strings.TrimSpace(stdout) != out2 {
		t.Fatalf("get p2t of a file already there: %v, %q; stderr %s", err, stdout, stderr)
	}
}

// TestServeShare seeds a folder from the tracker's own process.
func TestServeShare(t *testing.T) {
	dir := t.TempDir()
	data := writeRandom(t, filepath.Join(dir, "shared.bin"), 1<<20, 2)
	writeRandom(t, filepath.Join(dir, ".hidden"), 10, 3)
	m := manifestOf(t, filepath.Join(dir, "shared.bin"))

	srv := start(t, "serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--share", dir)
	url := srv.waitOut(t, `(http://127\.0\.0\.1:\d+)`)
	out := filepath.Join(t.TempDir(), "got.bin")
	if _, stderr, err := runCmd(t, "get", m.Digest.String(), "--tracker", url, "-o", out); err != nil {
		t.Fatalf("get: %v; stderr %s", err, stderr)
	}
	sameFile(t, out, data)
	if err := srv.stop(); err != nil {
		t.Fatalf("serve: %v; stderr %s", err, srv.errOut.String())
	}
	if _, _, err := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--share", filepath.Join(dir, "nope")); err == nil {
		t.Fatal("serve --share of a missing folder succeeded")
	}
}

func TestParseTracker(t *testing.T) {
	for _, c := range []struct{ in, ws, page string }{
		{"http://10.0.0.2:8080", "ws://10.0.0.2:8080/ws", "http://10.0.0.2:8080/"},
		{"http://10.0.0.2:8080/", "ws://10.0.0.2:8080/ws", "http://10.0.0.2:8080/"},
		{"ws://h:1/ws", "ws://h:1/ws", "http://h:1/"},
		{"ws://h:1", "ws://h:1/ws", "http://h:1/"},
		{"https://h", "wss://h/ws", "https://h/"},
		{"wss://h/ws/", "wss://h/ws", "https://h/"},
		{"h:8080", "ws://h:8080/ws", "http://h:8080/"},
		{"[::1]:8080", "ws://[::1]:8080/ws", "http://[::1]:8080/"},
	} {
		got, err := parseTracker(c.in)
		if err != nil || got.ws != c.ws || got.page != c.page {
			t.Errorf("parseTracker(%q) = %+v, %v; want %s %s", c.in, got, err, c.ws, c.page)
		}
	}
	for _, bad := range []string{"ftp://h", "http://", "http://h/app", "://"} {
		if _, err := parseTracker(bad); err == nil {
			t.Errorf("parseTracker(%q) succeeded", bad)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args, pos []string
		tr        string
	}{
		{[]string{"a", "--tracker", "u", "b"}, []string{"a", "b"}, "u"},
		{[]string{"--tracker=u", "a"}, []string{"a"}, "u"},
		{[]string{"a", "--", "--tracker", "b"}, []string{"a", "--tracker", "b"}, ""},
		{nil, nil, ""},
	} {
		fl := flag.NewFlagSet("x", flag.ContinueOnError)
		tr := fl.String("tracker", "", "")
		pos, err := parseInterspersed(fl, c.args)
		if err != nil || !slices.Equal(pos, c.pos) || *tr != c.tr {
			t.Errorf("%q: %q, tracker %q, %v", c.args, pos, *tr, err)
		}
	}
	fl := flag.NewFlagSet("x", flag.ContinueOnError)
	fl.SetOutput(new(bytes.Buffer))
	if _, err := parseInterspersed(fl, []string{"a", "--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestLocalTrackerURL(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "ws://127.0.0.1:8080/ws"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "ws://127.0.0.1:8080/ws"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, "ws://127.0.0.1:9/ws"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9}, "ws://[::1]:9/ws"},
	} {
		if got := localTrackerURL(c.addr); got != c.want {
			t.Errorf("localTrackerURL(%v) = %q, want %q", c.addr, got, c.want)
		}
	}
}

func TestSeedUsage(t *testing.T) {
	for _, args := range [][]string{
		{"seed"},
		{"seed", "a.bin"},
		{"seed", "--tracker", "http://127.0.0.1:1"},
		{"seed", "a.bin", "--tracker", "ftp://x"},
	} {
		if _, _, err := runCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want usage", args, err)
		}
	}
	_, _, err := runCmd(t, "seed", filepath.Join(t.TempDir(), "missing"), "--tracker", "http://127.0.0.1:1")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestPrivateTracker: seed and get pass --token (or TABSWARM_TOKEN) to a
// private tracker; without it, get cannot reach the tracker.
func TestPrivateTracker(t *testing.T) {
	shortTimeouts(t)
	url := startTrackerWith(t, tracker.Options{Token: "s3cret"})
	src := filepath.Join(t.TempDir(), "private.bin")
	data := writeRandom(t, src, 1<<20, 9)
	seeder := start(t, "seed", src, "--tracker", url, "--token", "s3cret")
	digest := seeder.waitOut(t, digestLine)

	out := filepath.Join(t.TempDir(), "out.bin")
	if _, _, err := runCmd(t, "get", digest, "--tracker", url, "-o", out); exitCode(err) != 3 {
		t.Fatalf("get without the token: %v (exit %d), want exit 3", err, exitCode(err))
	}
	t.Setenv("TABSWARM_TOKEN", "s3cret")
	if _, stderr, err := runCmd(t, "get", digest, "--tracker", url, "-o", out); err != nil {
		t.Fatalf("get with TABSWARM_TOKEN: %v; stderr %s", err, stderr)
	}
	sameFile(t, out, data)
}
