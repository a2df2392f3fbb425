package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
	"tabswarm/swarm/rtc"
)

// startNative runs a native peer (pion outside the browser) on lib against
// the test's tracker until the test ends, then closes lib if it is an
// io.Closer (a file-backed store).
func (e *env) startNative(tb testing.TB, name string, lib swarm.Library) *swarm.Node {
	tb.Helper()
	n, _ := e.runNative(tb, name, lib)
	return n
}

// runNative is startNative, and also returns stop, which ends the peer
// early, as a closed tab would, and returns once it is gone. Calling stop
// again is harmless.
func (e *env) runNative(tb testing.TB, name string, lib swarm.Library) (*swarm.Node, func()) {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(e.log.writer(name), &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := swarm.NewNode(swarm.Options{Connector: rtc.New(rtc.Options{Tracker: "ws://" + e.trackerAddr(tb) + "/ws", Logger: logger}), Library: lib, Logger: logger})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(ctx)
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
		if c, ok := lib.(io.Closer); ok {
			c.Close()
		}
	})
	tb.Cleanup(stop)
	wctx, wcancel := context.WithTimeout(ctx, stepTimeout)
	defer wcancel()
	if err := n.WaitConnected(wctx); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return n, stop
}

// TestNativeInterop is issue 4's e2e: a native peer seeds and a browser
// downloads, then a browser seeds and a native peer downloads. Both results
// are byte-identical.
func TestNativeInterop(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()

	t.Run("native-seeds-browser-gets", func(t *testing.T) {
		f := makeFile(t, dir, "from-native.bin", 3<<20+17)
		lib := filestore.New(t.TempDir())
		seeder := e.startNative(t, "native-seeder", lib)
		m, err := lib.Share(context.Background(), f.path)
		if err != nil {
			t.Fatal(err)
		}
		if m.Digest.String() != f.digest {
			t.Fatalf("native digest %s, want %s", m.Digest, f.digest)
		}
		if _, err := seeder.Add(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		e.waitListed(t, f.digest)
		bob := e.newPerson(t, "bob", "/")
		bob.get(t, f.digest, f.digest, f.size)
		checkSaved(t, "bob", f, bob.save(t, f.digest, f.size))

		// The page lists what the network seeds (as for serve --share):
		// one click downloads it.
		carol := e.newPerson(t, "carol", "/")
		sel := `[data-testid=network-file][data-digest="` + f.digest + `"] button`
		ctx, cancel := context.WithTimeout(carol.ctx, stepTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("carol: click %s: %v\n%s", sel, err, carol.dump())
		}
		carol.waitRow(t, "download from the network list", byDigest(f.digest), stateSeeding, 2*time.Minute)
		checkSaved(t, "carol", f, carol.save(t, f.digest, f.size))
	})

	t.Run("browser-seeds-native-gets", func(t *testing.T) {
		f := makeFile(t, dir, "from-browser.bin", 2<<20+5)
		alice := e.newPerson(t, "alice", "/")
		alice.share(t, f)
		e.waitListed(t, f.digest)
		lib := filestore.New(t.TempDir())
		getter := e.startNative(t, "native-getter", lib)
		d, _ := swarm.ParseDigest(f.digest)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := getter.Get(ctx, d); err != nil {
			t.Fatal(err)
		}
		err := poll(ctx, 2*time.Minute, 50*time.Millisecond, func(context.Context) (bool, error) {
			s, _ := getter.File(d)
			return s.State == swarm.StateSeeding, nil
		})
		if err != nil {
			s, _ := getter.File(d)
			t.Fatalf("native download: %v (state %s, %d/%d chunks)", err, s.State, s.Have, s.Chunks)
		}
		path, err := lib.Finish(d)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		want, _ := os.ReadFile(f.path)
		wantSum := sha256.Sum256(want)
		if hex.EncodeToString(sum[:]) != hex.EncodeToString(wantSum[:]) {
			t.Fatalf("native download differs: sha256 %x, want %x", sum, wantSum)
		}
	})
}

// waitListed waits until the tracker lists a holder of digest.
func (e *env) waitListed(tb testing.TB, digest string) {
	tb.Helper()
	api := "http://" + e.trackerAddr(tb) + "/api/files/" + digest
	err := poll(context.Background(), stepTimeout, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		code, err := httpStatus(ctx, api)
		return code == http.StatusOK, err
	})
	if err != nil {
		tb.Fatalf("the tracker never listed %s: %v", digest, err)
	}
}
