package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"tabswarm/internal/figure"
)

// wasmMemoryScript runs before the page's scripts and keeps the Go peer's
// WebAssembly.Memory (the instance's "mem" export) in window.__benchMemory,
// which the app itself does not expose.
const wasmMemoryScript = `(() => {
	const orig = WebAssembly.instantiateStreaming;
	WebAssembly.instantiateStreaming = async function (...args) {
		const r = await orig.apply(this, args);
		window.__benchMemory = r.instance.exports.mem;
		return r;
	};
})();`

// memSample is the tab's memory at one moment.
type memSample struct {
	at        time.Duration
	heapTotal float64 // JS heap allocated (Runtime.getHeapUsage)
	wasm      float64 // WebAssembly.Memory byteLength
	backing   float64 // array buffers' and external strings' backing stores, wasm memory included
	rss       float64 // the largest renderer process's resident memory, workers included
}

// benchShare shares a size-byte file in a fresh tab, runs times, over the
// plain-http page (no crypto.subtle): MB/s from picking the file until the
// row is seeding (read, hashed, stored in IndexedDB), and the peak of JS
// heap plus wasm memory, sampled every 200 ms; the peak over the first
// half of the time beside the whole shows whether memory stays flat.
// Runtime.getHeapUsage also gives the backing store of array buffers,
// which the JS heap figure leaves out: it is printed too, since chunk
// bytes the page keeps referenced live there.
func benchShare(b *testing.B, size int64) {
	e := newEnv(b)
	f := makeFile(b, b.TempDir(), fmt.Sprintf("random-%dMiB.bin", size>>20), size)
	rate := figure.New(fmt.Sprintf("share %dMiB", size>>20), "MB/s")
	peak := figure.New(fmt.Sprintf("share %dMiB peak tab memory (JS heap + wasm)", size>>20), "MB")
	backing := figure.New(fmt.Sprintf("share %dMiB peak array-buffer backing store", size>>20), "MB")
	backingHalf := figure.New(fmt.Sprintf("share %dMiB peak array-buffer backing store, first half of the time", size>>20), "MB")
	half := figure.New(fmt.Sprintf("share %dMiB peak tab memory, first half of the time", size>>20), "MB")
	rss := figure.New(fmt.Sprintf("share %dMiB peak renderer process RSS (page, hashing workers, Blink)", size>>20), "MB")
	rssHalf := figure.New(fmt.Sprintf("share %dMiB peak renderer process RSS, first half of the time", size>>20), "MB")
	for i := range figure.Runs() {
		p := e.newBlankPerson(b, fmt.Sprintf("sharer%d", i))
		if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: wasmMemoryScript}); err != nil {
			b.Fatal(err)
		}
		p.open(b, "/")
		if secure, _ := evalJS[bool](p.ctx, `!!(window.isSecureContext && crypto.subtle)`); secure {
			b.Fatalf("%s: the page has crypto.subtle; want the plain-http LAN case", p.name)
		}
		stop := sampleMemory(p)
		start := time.Now()
		p.share(b, f)
		took := time.Since(start)
		ss := stop()
		rate.Add(float64(size) / 1e6 / took.Seconds())
		all, first := peakOf(ss, took), peakOf(ss, took/2)
		peak.Add(all.heapTotal/1e6 + all.wasm/1e6)
		half.Add(first.heapTotal/1e6 + first.wasm/1e6)
		if len(ss) == 0 {
			b.Fatalf("%s: no memory samples", p.name)
		}
		backingOf := func(s memSample) float64 { return s.backing }
		rssOf := func(s memSample) float64 { return s.rss }
		backing.Add(peakBy(ss, took, backingOf) / 1e6)
		backingHalf.Add(peakBy(ss, took/2, backingOf) / 1e6)
		rss.Add(peakBy(ss, took, rssOf) / 1e6)
		rssHalf.Add(peakBy(ss, took/2, rssOf) / 1e6)
		b.Logf("run %d: %d samples; peak JS heap %.0f MB + wasm %.0f MB at %v of %v",
			i, len(ss), all.heapTotal/1e6, all.wasm/1e6, all.at.Round(time.Millisecond), took.Round(time.Millisecond))
		p.close()
	}
	rate.Print()
	peak.Print()
	half.Print()
	backing.Print()
	backingHalf.Print()
	rss.Print()
	rssHalf.Print()
}

// sampleMemory samples p's memory every 200 ms until the returned stop is
// called, which returns the samples.
func sampleMemory(p *person) func() []memSample {
	var (
		mu  sync.Mutex
		out []memSample
	)
	ctx, cancel := context.WithCancel(p.ctx)
	done := make(chan struct{})
	start := time.Now()
	root := p.env.browserPID()
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			h, err := chromedp.Call(ctx, runtime.GetHeapUsage, cdp.Empty{})
			w, werr := evalJS[float64](ctx, `window.__benchMemory ? window.__benchMemory.buffer.byteLength : 0`)
			if err == nil && werr == nil {
				mu.Lock()
				out = append(out, memSample{at: time.Since(start), heapTotal: h.TotalSize, wasm: w, backing: h.BackingStorageSize, rss: maxRendererRSS(root)})
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() []memSample {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// peakBy returns the largest of field over the samples before until.
func peakBy(ss []memSample, until time.Duration, field func(memSample) float64) float64 {
	var best float64
	for _, s := range ss {
		if s.at <= until {
			best = max(best, field(s))
		}
	}
	return best
}

// peakOf returns the sample with the most memory taken before until.
func peakOf(ss []memSample, until time.Duration) memSample {
	var best memSample
	for _, s := range ss {
		if s.at <= until && s.heapTotal+s.wasm > best.heapTotal+best.wasm {
			best = s
		}
	}
	return best
}
