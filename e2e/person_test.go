package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The page's stable hooks (issue 2).
const (
	selShareInput = `[data-testid=share-input]`
	selGetInput   = `[data-testid=get-input]`
	selGetButton  = `[data-testid=get-button]`
	selFile       = `[data-testid=file]`
	selSave       = `[data-testid=save]`
)

// Row states (data-state).
const (
	statePreparing   = "preparing"
	stateDownloading = "downloading"
	stateSeeding     = "seeding"
	stateStalled     = "stalled"
	stateError       = "error"
)

// person is one simulated user: one tab in its own browser context, so its
// IndexedDB and download folder are its own.
type person struct {
	env    *env
	name   string
	ctx    context.Context // the tab
	cancel context.CancelFunc
	bcID   cdp.BrowserContextID
	frame  cdp.FrameID // main frame; equals the target ID
	dlRoot string
	saves  int

	dialogs chan string // messages of JS dialogs the page opened

	mu      sync.Mutex
	console []string // recent console lines, for waitConsole and failure dumps
}

// newPerson opens a tab in a fresh browser context and loads the app at path
// (usually "/"), waiting until the page is ready. The tab closes in tb's cleanup.
func (e *env) newPerson(tb testing.TB, name, path string) *person {
	tb.Helper()
	p := e.newBlankPerson(tb, name)
	p.open(tb, path)
	return p
}

// newBlankPerson opens an about:blank tab in a fresh browser context, with
// console forwarding and downloads set up.
func (e *env) newBlankPerson(tb testing.TB, name string) *person {
	tb.Helper()
	dl, err := os.MkdirTemp("", "tabswarm-e2e-dl-"+name+"-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dl) })

	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	return e.attach(tb, name, ctx, cancel, dl)
}

// newTab opens an about:blank tab in p's browser context, so it shares p's
// IndexedDB, as a second person named name; closing it closes that tab only.
func (p *person) newTab(tb testing.TB, name string) *person {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	return p.env.attach(tb, name, ctx, cancel, p.dlRoot)
}

// attach opens the tab of ctx and sets up console forwarding and dialogs.
func (e *env) attach(tb testing.TB, name string, ctx context.Context, cancel context.CancelFunc, dl string) *person {
	tb.Helper()
	p := &person{env: e, name: name, ctx: ctx, cancel: cancel, dlRoot: dl, dialogs: make(chan string, 8)}
	tb.Cleanup(p.close)

	// The first Run opens the tab and binds it to the context it gets, so it
	// gets ctx itself, not one with a deadline.
	if err := within(stepTimeout, func() error { return chromedp.Do(ctx) }); err != nil {
		tb.Fatalf("%s: open a tab in a new browser context: %v", name, err)
	}
	c := chromedp.FromContext(ctx)
	p.bcID = c.BrowserContextID
	p.frame = cdp.FrameID(c.Target.TargetID)

	// Note the page's ready event in every document this tab loads.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: readyScript,
	}); err != nil {
		tb.Fatalf("%s: add the ready script: %v", name, err)
	}

	// A JS dialog (alert, confirm) blocks the page and every later step, so
	// accept it at once, log it, and tell a waiting step.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			msg := fmt.Sprintf("%s dialog: %s", ev.Type, ev.Message)
			p.record(msg)
			select {
			case p.dialogs <- msg:
			default:
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	// Subscribe before the first navigation so no message is lost.
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.record(formatConsole(m))
		}
	}()
	return p
}

// close closes the tab and disposes of its browser context (and storage).
func (p *person) close() {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
}

func (p *person) record(line string) {
	p.env.log.logf("%s: %s", p.name, line)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.console = append(p.console, line)
	if len(p.console) > 400 {
		p.console = p.console[len(p.console)-300:]
	}
}

func formatConsole(m chromedp.ConsoleMessage) string {
	s := m.String()
	if m.IsException() && m.Stack != nil {
		for i, f := range m.Stack.CallFrames {
			if i == 5 {
				s += "\n\t..."
				break
			}
			s += fmt.Sprintf("\n\tat %s (%s:%d:%d)", f.FunctionName, f.URL, f.LineNumber+1, f.ColumnNumber+1)
		}
	} else if m.URL != "" && (m.Type == chromedp.ConsoleError || m.Source != "") {
		s += fmt.Sprintf(" [%s:%d]", m.URL, m.Line+1)
	}
	return s
}

// waitConsole waits until a forwarded console line contains substr.
func (p *person) waitConsole(tb testing.TB, substr string, timeout time.Duration) string {
	tb.Helper()
	var got string
	err := poll(p.ctx, timeout, 50*time.Millisecond, func(context.Context) (bool, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, l := range p.console {
			if strings.Contains(l, substr) {
				got = l
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		tb.Fatalf("%s: no console line containing %q within %v: %v", p.name, substr, timeout, err)
	}
	return got
}

// url returns the app URL for path ("/", "/#digest", ...). It turns on the
// peer's debug logging (?debug) unless TABSWARM_E2E_DEBUG=0, or the path is
// a share link, which is opened exactly as a person would.
func (p *person) url(path string) string {
	if os.Getenv("TABSWARM_E2E_DEBUG") != "0" && !strings.ContainsAny(path, "?#") {
		path += "?debug"
	}
	return p.env.base + path
}

// open navigates the tab to path and waits for the app to be ready.
func (p *person) open(tb testing.TB, path string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageReadyTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(p.url(path))); err != nil {
		tb.Fatalf("%s: load %s: %v", p.name, p.url(path), err)
	}
	p.waitReady(tb)
}

// reload reloads the tab and waits for the app to be ready again.
func (p *person) reload(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageReadyTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		tb.Fatalf("%s: reload: %v", p.name, err)
	}
	p.waitReady(tb)
}

// readyScript runs before the page's own scripts in every document: it
// notes the "tabswarm-ready" event, which the wasm peer fires once it is up
// and the page has wired its inputs.
const readyScript = `addEventListener("tabswarm-ready", () => { window.__e2eReady = true; }, {once: true});`

// readyJS is true once the page shows its inputs and the peer is up: the
// tabswarm-ready event fired, or the page marks itself ready with
// <html data-ready> or [data-testid=status][data-state=ready].
const readyJS = `(() => {
	const s = document.querySelector('` + selShareInput + `');
	const g = document.querySelector('` + selGetInput + `');
	if (!s || !g || s.disabled || g.disabled) return false;
	return !!(window.__e2eReady || document.documentElement.dataset.ready !== undefined ||
		document.querySelector('[data-testid=status][data-state=ready]'));
})()`

func (p *person) waitReady(tb testing.TB) {
	tb.Helper()
	start := time.Now()
	err := poll(p.ctx, pageReadyTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		return evalJS[bool](ctx, readyJS)
	})
	if err != nil {
		tb.Fatalf("%s: the app at %s was not ready within %v (want %s and %s, and the tabswarm-ready event): %v\n%s",
			p.name, p.env.base, pageReadyTimeout, selShareInput, selGetInput, err, p.dump())
	}
	p.env.log.logf("%s: app ready in %v", p.name, time.Since(start).Round(time.Millisecond))
}

// dump describes the page for a failure message: rows, URL, the tail of the
// console, and the body text.
func (p *person) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s's page ---\n", p.name)
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		fmt.Fprintf(&b, "url: %s\n", loc)
	}
	if rs, err := evalJS[[]row](ctx, rowsJS); err == nil {
		for _, r := range rs {
			fmt.Fprintf(&b, "row: %s\n", r)
		}
		if len(rs) == 0 {
			b.WriteString("no " + selFile + " rows\n")
		}
	} else {
		fmt.Fprintf(&b, "rows: %v\n", err)
	}
	if body, err := evalJS[string](ctx, `(document.body ? document.body.innerText : '').slice(0, 1500)`); err == nil {
		fmt.Fprintf(&b, "body text:\n%s\n", body)
	}
	p.mu.Lock()
	tail := p.console[max(0, len(p.console)-15):]
	p.mu.Unlock()
	fmt.Fprintf(&b, "last %d console lines:\n", len(tail))
	for _, l := range tail {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
