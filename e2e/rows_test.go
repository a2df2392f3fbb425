package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// row is what a [data-testid=file] element shows.
type row struct {
	Digest string `json:"digest"`
	Name   string `json:"name"`
	State  string `json:"state"`
	Text   string `json:"text"`
}

func (r row) String() string {
	return fmt.Sprintf("{digest=%s name=%q state=%s text=%q}", r.Digest, r.Name, r.State, r.Text)
}

const rowsJS = `Array.from(document.querySelectorAll('` + selFile + `'), r => ({
	digest: r.dataset.digest || '',
	name: r.dataset.name || '',
	state: r.dataset.state || '',
	text: (r.innerText || r.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 400),
}))`

// rows returns the file rows the page shows now.
func (p *person) rows(ctx context.Context) ([]row, error) {
	return evalJS[[]row](ctx, rowsJS)
}

// waitRow waits until the row that match selects is in state want. It fails
// at once if the row reaches the error state (unless want is error).
func (p *person) waitRow(tb testing.TB, what string, match func(row) bool, want string, timeout time.Duration) row {
	tb.Helper()
	return p.waitRowIn(tb, what, match, []string{want}, timeout)
}

// waitRowIn waits until the row that match selects is in one of the states
// wants, and fails at once if it reaches error and error is not wanted.
func (p *person) waitRowIn(tb testing.TB, what string, match func(row) bool, wants []string, timeout time.Duration) row {
	tb.Helper()
	var last row
	var seen bool
	var bad error
	err := poll(p.ctx, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		rs, err := p.rows(ctx)
		if err != nil {
			return false, err
		}
		for _, r := range rs {
			if !match(r) {
				continue
			}
			last, seen = r, true
			switch {
			case slices.Contains(wants, r.State):
				return true, nil
			case r.State == stateError:
				bad = fmt.Errorf("row went to state error: %s", r)
				return true, nil
			}
		}
		return false, nil
	})
	want := strings.Join(wants, " or ")
	if bad != nil {
		tb.Fatalf("%s: waiting for %s to be %s: %v\n%s", p.name, what, want, bad, p.dump())
	}
	if err != nil {
		lastSeen := "no such row ever appeared"
		if seen {
			lastSeen = "last seen " + last.String()
		}
		tb.Fatalf("%s: %s did not reach state %s within %v (%s): %v\n%s",
			p.name, what, want, timeout, lastSeen, err, p.dump())
	}
	return last
}

// badInputJS reports where the page shows a message about bad get input: a
// row in state error, a message element, or the input's own validity.
const badInputJS = `(() => {
	const out = {errorRows: [], message: ''};
	for (const r of document.querySelectorAll('` + selFile + `[data-state=error]')) {
		out.errorRows.push((r.innerText || r.textContent || '').replace(/\s+/g, ' ').trim());
	}
	for (const sel of ['[data-testid=get-error]', '[data-testid=message]', '[role=alert]']) {
		for (const el of document.querySelectorAll(sel)) {
			const t = (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim();
			if (t) { out.message = sel + ': ' + t; return out; }
		}
	}
	const g = document.querySelector('` + selGetInput + `');
	if (g && g.validationMessage) out.message = 'get-input validity: ' + g.validationMessage;
	return out;
})()`

type badInputView struct {
	ErrorRows []string `json:"errorRows"`
	Message   string   `json:"message"`
}

// waitBadInput waits until the page shows a message for the bad input that
// was just entered: a new [data-testid=file][data-state=error] row, or a
// non-empty message element, and returns that message.
func (p *person) waitBadInput(tb testing.TB, input string, before badInputView) string {
	tb.Helper()
	var msg string
	err := poll(p.ctx, stepTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		v, err := evalJS[badInputView](ctx, badInputJS)
		if err != nil {
			return false, err
		}
		if len(v.ErrorRows) > len(before.ErrorRows) {
			old := map[string]int{}
			for _, r := range before.ErrorRows {
				old[r]++
			}
			for _, r := range v.ErrorRows {
				if old[r] == 0 {
					msg = "error row: " + r
					return true, nil
				}
				old[r]--
			}
		}
		if v.Message != "" {
			msg = v.Message
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		tb.Fatalf("%s: after Get with %q the page showed no error within %v (no new %s[data-state=error] row, "+
			"no [data-testid=get-error], [role=alert] or input validation message): %v\n%s",
			p.name, input, stepTimeout, selFile, err, p.dump())
	}
	return msg
}

// badInputState returns what the page shows about bad input now.
func (p *person) badInputState(tb testing.TB) badInputView {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := evalJS[badInputView](ctx, badInputJS)
	if err != nil {
		tb.Fatalf("%s: %v", p.name, err)
	}
	return v
}

func byDigest(d string) func(row) bool { return func(r row) bool { return r.Digest == d } }
func byName(n string) func(row) bool   { return func(r row) bool { return r.Name == n } }
