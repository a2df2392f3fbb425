package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// bidi is a small WebDriver BiDi client: commands with their replies, and
// events handed to a callback. It is what the Firefox e2e test drives
// Firefox with (chromedp speaks only Chromium's protocol).
type bidi struct {
	conn    *websocket.Conn
	onEvent func(method string, params json.RawMessage)

	mu      sync.Mutex
	next    int
	pending map[int]chan bidiReply
	err     error // why the connection ended
}

// bidiReply is a command's result or error.
type bidiReply struct {
	ID      int             `json:"id"`
	Type    string          `json:"type"` // success, error or event
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// dialBiDi connects to a BiDi endpoint (ws://host:port/session) and reads
// its messages until ctx ends or the connection drops.
func dialBiDi(ctx context.Context, url string, onEvent func(string, json.RawMessage)) (*bidi, error) {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(64 << 20)
	b := &bidi{conn: conn, onEvent: onEvent, pending: make(map[int]chan bidiReply)}
	go b.read(ctx)
	return b, nil
}

func (b *bidi) read(ctx context.Context) {
	for {
		_, data, err := b.conn.Read(ctx)
		if err != nil {
			b.mu.Lock()
			b.err = err
			for id, c := range b.pending {
				close(c)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var r bidiReply
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		if r.Type == "event" {
			if b.onEvent != nil {
				b.onEvent(r.Method, r.Params)
			}
			continue
		}
		b.mu.Lock()
		c := b.pending[r.ID]
		delete(b.pending, r.ID)
		b.mu.Unlock()
		if c != nil {
			c <- r
		}
	}
}

// call sends one command and waits for its reply; a BiDi error is a Go
// error, and the result is decoded into out (if not nil).
func (b *bidi) call(ctx context.Context, method string, params any, out any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.next++
	id := b.next
	c := make(chan bidiReply, 1)
	b.pending[id] = c
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := b.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	select {
	case r, ok := <-c:
		switch {
		case !ok:
			return fmt.Errorf("%s: connection closed: %w", method, b.err)
		case r.Type == "error":
			return fmt.Errorf("%s: %s: %s", method, r.Error, r.Message)
		case out != nil:
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// remoteValue is a script result (BiDi RemoteValue): a primitive's value,
// or a node's shared ID.
type remoteValue struct {
	Type     string          `json:"type"`
	Value    json.RawMessage `json:"value"`
	SharedID string          `json:"sharedId"`
}

// evaluate runs expr in browsing context bc, awaiting a promise, and
// returns the result; a thrown exception is an error.
func (b *bidi) evaluate(ctx context.Context, bc, expr string) (remoteValue, error) {
	var res struct {
		Type             string      `json:"type"`
		Result           remoteValue `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := b.call(ctx, "script.evaluate", map[string]any{
		"expression": expr, "target": map[string]any{"context": bc},
		"awaitPromise": true, "resultOwnership": "none",
	}, &res)
	if err != nil {
		return remoteValue{}, err
	}
	if res.Type == "exception" {
		return remoteValue{}, errors.New("script threw: " + res.ExceptionDetails.Text)
	}
	return res.Result, nil
}

// evalInto runs expr (see evaluate) and decodes its primitive value into out.
func (b *bidi) evalInto(ctx context.Context, bc, expr string, out any) error {
	v, err := b.evaluate(ctx, bc, expr)
	if err != nil {
		return err
	}
	if v.Type == "null" || v.Type == "undefined" {
		return fmt.Errorf("%q gave %s", expr, v.Type)
	}
	return json.Unmarshal(v.Value, out)
}
