//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"tabswarm/swarm"
)

// jsError is an exception or rejection from JavaScript, with its
// DOMException name (QuotaExceededError, NotFoundError, …).
type jsError struct {
	name, msg string
}

func (e *jsError) Error() string {
	if e.msg == "" {
		return e.name
	}
	return e.name + ": " + e.msg
}

// errUnreadable means a picked file could not be read any more: it was
// changed, moved or deleted after it was picked (a NotReadableError).
var errUnreadable = errors.New("the file could not be read")

// toError turns a thrown or rejected JS value into a Go error. A full
// browser storage becomes swarm.ErrQuota, and a file that can no longer be
// read errUnreadable, and says so.
func toError(v js.Value) error {
	if v.IsNull() || v.IsUndefined() {
		return errors.New("javascript: unknown error")
	}
	if v.Type() == js.TypeObject {
		name, msg := v.Get("name"), v.Get("message")
		if name.Type() == js.TypeString {
			e := &jsError{name: name.String(), msg: msg.String()}
			switch e.name {
			case "QuotaExceededError":
				return fmt.Errorf("%w: %w", swarm.ErrQuota, e)
			case "NotReadableError":
				return fmt.Errorf("%w: %w", errUnreadable, e)
			}
			return e
		}
	}
	return &jsError{name: "Error", msg: js.Global().Get("String").Invoke(v).String()}
}

// await waits for a promise to settle, releasing its callbacks after.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{err: toError(args[0])}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	p.Call("then", onOK, onErr)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Value{}, ctx.Err()
	}
}

// call invokes a JS method and turns a thrown exception into an error.
func call(v js.Value, method string, args ...any) (js.Value, error) {
	return catch(method, func() js.Value { return v.Call(method, args...) })
}

// construct calls new class(args...), turning an exception into an error.
func construct(class js.Value, args ...any) (js.Value, error) {
	return catch("new", func() js.Value { return class.New(args...) })
}

// catch runs f, turning what it throws into an error about what.
func catch(what string, f func() js.Value) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = toError(je.Value)
				return
			}
			err = fmt.Errorf("javascript %s: %v", what, r)
		}
	}()
	return f(), nil
}

// promise runs fn in a goroutine and returns a JS Promise of its result,
// so a js.FuncOf callback returns at once.
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			v, err := fn()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// bytesFromJS copies an ArrayBuffer or typed array into buf, grown as needed.
func bytesFromJS(v js.Value, buf []byte) []byte {
	u := js.Global().Get("Uint8Array").New(v)
	n := u.Length()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	js.CopyBytesToGo(buf, u)
	return buf
}
