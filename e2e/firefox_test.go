package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Firefox ESR next to Chromium: one headless Firefox with its own profile,
// driven over WebDriver BiDi, loads the page as http://tabswarm.test:PORT
// (the profile maps that name to 127.0.0.1 with network.dns.localDomains),
// so it is no secure context there either.

// firefoxPrefs is the test profile's user.js. Every HTTP request to any
// other host goes to a closed loopback port (a dead proxy), so Firefox's
// background services never leave the machine. WebRTC keeps Firefox's
// default settings.
var firefoxPrefs = []string{
	`user_pref("network.dns.localDomains", "` + appHost + `");`,
	`user_pref("network.proxy.type", 1);`,
	`user_pref("network.proxy.http", "127.0.0.1");`,
	`user_pref("network.proxy.http_port", 9);`,
	`user_pref("network.proxy.ssl", "127.0.0.1");`,
	`user_pref("network.proxy.ssl_port", 9);`,
	`user_pref("network.proxy.no_proxies_on", "` + appHost + `");`,
	`user_pref("network.proxy.allow_hijacking_localhost", false);`,
	`user_pref("network.trr.mode", 5);`,
	`user_pref("network.dns.disablePrefetch", true);`,
	`user_pref("network.prefetch-next", false);`,
	`user_pref("network.captive-portal-service.enabled", false);`,
	`user_pref("network.connectivity-service.enabled", false);`,
	`user_pref("dom.push.connection.enabled", false);`,
	`user_pref("browser.safebrowsing.update.enabled", false);`,
	`user_pref("datareporting.policy.dataSubmissionEnabled", false);`,
	`user_pref("toolkit.telemetry.enabled", false);`,
	`user_pref("app.update.disabledForTesting", true);`,
	`user_pref("app.normandy.enabled", false);`,
	`user_pref("browser.shell.checkDefaultBrowser", false);`,
	`user_pref("browser.startup.page", 0);`,
}

// firefoxPath finds Firefox ESR, or skips the test (fails it under CI).
func firefoxPath(tb testing.TB) string {
	tb.Helper()
	return findBrowser(tb, "Firefox ESR", "FIREFOX", "firefox-esr", "firefox-esr", "firefox")
}

// fox is one person in Firefox: a tab of the test's Firefox.
type fox struct {
	name string
	env  *env
	b    *bidi
	bc   string // browsing context ID
	ctx  context.Context
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// startFirefox runs headless Firefox on a fresh profile until tb ends and
// opens the page in a tab of it.
func (e *env) startFirefox(tb testing.TB, name string) *fox {
	tb.Helper()
	exe := firefoxPath(tb)
	profile, err := os.MkdirTemp("", "tabswarm-e2e-firefox-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(profile) })
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(strings.Join(firefoxPrefs, "\n")+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exe, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = e.log.writer(name + " stdout")
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", exe, err)
	}
	tb.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			e.log.logf("%s stderr: %s", name, sc.Text())
			if m := bidiListening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(browserStartTimeout):
		tb.Fatalf("%s: Firefox never said where WebDriver BiDi listens", name)
	}
	f := &fox{name: name, env: e, ctx: ctx}
	f.b, err = dialBiDi(ctx, url+"/session", func(method string, params json.RawMessage) {
		if method == "log.entryAdded" {
			var entry struct {
				Level, Text string
			}
			json.Unmarshal(params, &entry)
			e.log.logf("%s: console %s: %s", name, entry.Level, entry.Text)
		}
	})
	if err != nil {
		tb.Fatalf("%s: dial BiDi at %s: %v", name, url, err)
	}
	sctx, scancel := context.WithTimeout(ctx, stepTimeout)
	defer scancel()
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := f.b.call(sctx, "session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if err := f.b.call(sctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if err := f.b.call(sctx, "browsingContext.getTree", map[string]any{}, &tree); err != nil || len(tree.Contexts) == 0 {
		tb.Fatalf("%s: no tab: %v", name, err)
	}
	f.bc = tree.Contexts[0].Context
	f.open(tb)
	return f
}

// eval runs expr in f's tab with a step deadline and decodes its result.
func (f *fox) eval(tb testing.TB, expr string, out any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
	defer cancel()
	if err := f.b.evalInto(ctx, f.bc, expr, out); err != nil {
		tb.Fatalf("%s: %v", f.name, err)
	}
}

// open loads the page and waits until the app is ready.
func (f *fox) open(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, pageReadyTimeout)
	defer cancel()
	url := f.env.base + "/?debug"
	if err := f.b.call(ctx, "browsingContext.navigate", map[string]any{"context": f.bc, "url": url, "wait": "complete"}, nil); err != nil {
		tb.Fatalf("%s: load %s: %v", f.name, url, err)
	}
	err := poll(ctx, pageReadyTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var ready bool
		err := f.b.evalInto(ctx, f.bc, readyJS, &ready)
		return ready, err
	})
	if err != nil {
		tb.Fatalf("%s: the app at %s was not ready: %v", f.name, url, err)
	}
	var secure bool
	f.eval(tb, `window.isSecureContext`, &secure)
	if secure {
		tb.Fatalf("%s: %s is a secure context; the test needs a page as on a LAN", f.name, url)
	}
}

// waitSeeding waits until f's row for digest is seeding.
func (f *fox) waitSeeding(tb testing.TB, digest string, timeout time.Duration) {
	tb.Helper()
	var last string
	err := poll(f.ctx, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var raw string
		if err := f.b.evalInto(ctx, f.bc, `JSON.stringify(`+rowsJS+`)`, &raw); err != nil {
			return false, err
		}
		var rs []row
		json.Unmarshal([]byte(raw), &rs)
		for _, r := range rs {
			if r.Digest == digest {
				last = r.String()
				if r.State == stateError {
					return false, fmt.Errorf("row in error: %s", r)
				}
				return r.State == stateSeeding, nil
			}
		}
		return false, nil
	})
	if err != nil {
		tb.Fatalf("%s: %s never seeding (last %s): %v", f.name, digest, last, err)
	}
}

// share picks file in the share input over BiDi and waits for its row,
// whose digest must be the native one.
func (f *fox) share(tb testing.TB, file testFile) {
	tb.Helper()
	abs, _ := filepath.Abs(file.path)
	ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
	defer cancel()
	input, err := f.b.evaluate(ctx, f.bc, `document.querySelector('`+selShareInput+`')`)
	if err != nil || input.SharedID == "" {
		tb.Fatalf("%s: no share input (%+v): %v", f.name, input, err)
	}
	if err := f.b.call(ctx, "input.setFiles", map[string]any{
		"context": f.bc, "element": map[string]any{"sharedId": input.SharedID}, "files": []string{abs},
	}, nil); err != nil {
		tb.Fatalf("%s: %v", f.name, err)
	}
	f.waitSeeding(tb, file.digest, sizeTimeout(file.size, 1e6))
}

// get pastes digest into the get input, presses Get, and waits for the
// download to complete.
func (f *fox) get(tb testing.TB, file testFile) {
	tb.Helper()
	var ok bool
	f.eval(tb, fmt.Sprintf(`(() => {
		document.querySelector('%s').value = %q;
		document.querySelector('%s').click();
		return true;
	})()`, selGetInput, file.digest, selGetButton), &ok)
	f.waitSeeding(tb, file.digest, sizeTimeout(file.size, 1e6)+time.Minute)
}

// checkStored compares the file f's tab would save for file (the Blob
// its Save button saves) with file's bytes.
func (f *fox) checkStored(tb testing.TB, file testFile) {
	tb.Helper()
	var b64 string
	f.eval(tb, fmt.Sprintf(`tabswarm.blob(%q).then((b) => b.arrayBuffer()).then((buf) => {
		const u = new Uint8Array(buf);
		let s = "";
		for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
		return btoa(s);
	})`, file.digest), &b64)
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != file.size || hex.EncodeToString(sum[:]) != file.sha256 {
		tb.Errorf("%s holds %d bytes with SHA-256 %x for %s, want %d bytes, %s", f.name, len(data), sum, file.name, file.size, file.sha256)
	}
}

// TestFirefoxChromium: a file goes from Chromium to Firefox ESR and another
// from Firefox to Chromium, each browser with its own profile, both pages
// on a non-secure origin.
func TestFirefoxChromium(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	toFox := makeFile(t, dir, "to-firefox.bin", 1<<20+7)
	toChrome := makeFile(t, dir, "to-chromium.bin", 700<<10)

	chrome := e.newPerson(t, "chromium", "/")
	chrome.share(t, toFox)
	fx := e.startFirefox(t, "firefox")
	fx.get(t, toFox)
	fx.checkStored(t, toFox)

	fx.share(t, toChrome)
	chrome.get(t, toChrome.digest, toChrome.digest, toChrome.size)
	checkSaved(t, "chromium", toChrome, chrome.save(t, toChrome.digest, toChrome.size))
}
