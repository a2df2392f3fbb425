//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/rtc"
)

// bridge is window.tabswarm: the page's view of the node.
//
// For the page (and whoever restyles it): stats() returns a plain object,
// {peer_id, files: [{key, digest, name, state, have, chunks, peers, map,
// ...}]}, the fields of swarm.FileStats plus key. Set
// window.tabswarm.onchange = fn and fn() is called after something that
// object shows has changed, at most every changeInterval but at once for
// a milestone (a row coming or going, a state changing, a download's first
// chunk); read stats() there instead of polling it.
type bridge struct {
	node *swarm.Node
	conn *rtc.Connector
	lib  *idbLibrary
	log  *slog.Logger
	api  js.Value      // window.tabswarm
	rowc chan struct{} // pinged when a placeholder row changes

	interval time.Duration // the least time between two onchange calls, but for milestones

	hashers hashWorkers // the hashing workers a share runs on

	mu   sync.Mutex // never held across a JS await
	rows map[string]*swarm.FileStats
	next int
}

func newBridge(node *swarm.Node, conn *rtc.Connector, lib *idbLibrary, log *slog.Logger) *bridge {
	return &bridge{node: node, conn: conn, lib: lib, log: log, rows: make(map[string]*swarm.FileStats), rowc: make(chan struct{}, 1), interval: changeInterval}
}

// changeInterval is the least time between two onchange calls, but for
// milestones.
const changeInterval = 250 * time.Millisecond

// notify calls window.tabswarm.onchange after each change of the node or
// of a placeholder row, until ctx ends. Changes within b.interval of a
// call coalesce into the next one, but a milestone reaches the page at
// once: a row coming or going, a state changing (a download done or
// failed), a download's first chunk stored.
func (b *bridge) notify(ctx context.Context) {
	changes, unsubscribe := b.node.Subscribe()
	defer unsubscribe()
	pending := false
	for {
		if !pending {
			select {
			case <-changes:
			case <-b.rowc:
			case <-ctx.Done():
				return
			}
		}
		shown := milestones(b.node.Stats())
		b.changed()
		pending = false
		wait := time.NewTimer(b.interval)
		for waiting := true; waiting; {
			select {
			case <-wait.C:
				waiting = false
			case <-changes:
				pending = true
				waiting = maps.Equal(milestones(b.node.Stats()), shown)
			case <-b.rowc:
				pending, waiting = true, false
			case <-ctx.Done():
				wait.Stop()
				return
			}
		}
		wait.Stop()
	}
}

// milestones maps each file and collection of s to what of it the page
// must show at once: its state, and for a file whether it holds a chunk.
func milestones(s swarm.Stats) map[string]string {
	m := make(map[string]string, len(s.Files)+len(s.Collections))
	for _, f := range s.Files {
		m[f.Digest] = fmt.Sprintf("%s %t", f.State, f.Have > 0)
	}
	for _, c := range s.Collections {
		m["collection "+c.Digest] = string(c.State)
	}
	return m
}

// changed calls window.tabswarm.onchange, if set. An exception it throws
// is logged: the page's bug must not stop the peer.
func (b *bridge) changed() {
	defer func() {
		if r := recover(); r != nil {
			b.log.Warn("tabswarm.onchange threw", "err", r)
		}
	}()
	if fn := b.api.Get("onchange"); fn.Type() == js.TypeFunction {
		fn.Invoke()
	}
}

func (b *bridge) rowChanged() {
	select {
	case b.rowc <- struct{}{}:
	default:
	}
}

// export builds the window.tabswarm object. Its functions are never
// released: they live as long as the page.
func (b *bridge) export() js.Value {
	api := js.Global().Get("Object").New()
	fn := func(name string, f func(args []js.Value) any) {
		api.Set(name, js.FuncOf(func(this js.Value, args []js.Value) any { return f(args) }))
	}
	fn("share", func(args []js.Value) any { return promise(func() (any, error) { return b.share(arg(args, 0)) }) })
	fn("shareSet", func(args []js.Value) any {
		return promise(func() (any, error) { return b.shareSet(arg(args, 0), arg(args, 1)) })
	})
	fn("get", func(args []js.Value) any { return promise(func() (any, error) { return b.get(arg(args, 0).String()) }) })
	fn("open", func(args []js.Value) any {
		return promise(func() (any, error) { return b.open(arg(args, 0).String(), arg(args, 1)) })
	})
	fn("save", func(args []js.Value) any {
		return promise(func() (any, error) { return nil, b.save(arg(args, 0).String()) })
	})
	fn("remove", func(args []js.Value) any {
		return promise(func() (any, error) { return nil, b.remove(arg(args, 0).String()) })
	})
	fn("blob", func(args []js.Value) any {
		return promise(func() (any, error) {
			blob, _, err := b.blob(arg(args, 0).String())
			return blob, err
		})
	})
	fn("setName", func(args []js.Value) any {
		return promise(func() (any, error) { return b.conn.SetName(context.Background(), arg(args, 0).String()) })
	})
	fn("manifest", func(args []js.Value) any { return b.manifest(arg(args, 0).String()) })
	fn("stats", func(args []js.Value) any { return b.stats() })
	fn("link", func(args []js.Value) any { return link(jsString(arg(args, 0)), jsString(arg(args, 1))) })
	fn("parseLink", func(args []js.Value) any { return parseLink(jsString(arg(args, 0))) })
	api.Set("onchange", js.Null())
	b.api = api
	return api
}

// jsString is v if it is a string, else "".
func jsString(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// row adds a placeholder row, for a file being prepared or a failed
// request, and returns its key.
func (b *bridge) row(s swarm.FileStats) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	key := fmt.Sprint("row-", b.next)
	b.rows[key] = &s
	b.rowChanged()
	return key
}

func (b *bridge) update(key string, f func(*swarm.FileStats)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.rows[key]; s != nil {
		f(s)
		b.rowChanged()
	}
}

func (b *bridge) drop(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.rows, key)
	b.rowChanged()
}

func (b *bridge) fail(key string, err error) {
	b.update(key, func(s *swarm.FileStats) {
		s.State, s.Error = swarm.StateError, errorText(err)
	})
}

// errorText words an error for the page.
func errorText(err error) string {
	switch {
	case errors.Is(err, swarm.ErrQuota):
		return "Browser storage is full: remove some files and try again. (" + err.Error() + ")"
	case errors.Is(err, errUnreadable):
		return "The file could not be read: it changed, moved or was deleted after it was picked. Pick it again. (" + err.Error() + ")"
	case errors.Is(err, swarm.ErrNoPeers):
		return "No peer has this file right now. Check the digest, or ask someone who has it to open the page."
	case errors.Is(err, swarm.ErrBadDigest):
		return "That is not a file digest: paste the 64 hex characters or the share link. (" + err.Error() + ")"
	case errors.Is(err, swarm.ErrBadManifest):
		return "The file description is invalid: " + err.Error()
	case errors.Is(err, swarm.ErrNoTracker):
		return "Cannot reach the tracker; retrying in the background. (" + err.Error() + ")"
	}
	return err.Error()
}

func (b *bridge) share(file js.Value) (any, error) {
	if file.Type() != js.TypeObject || file.Get("size").Type() != js.TypeNumber {
		return nil, errors.New("share needs a File")
	}
	size := int64(file.Get("size").Float())
	key := b.row(swarm.FileStats{Name: file.Get("name").String(), Size: size, State: swarm.StatePreparing})
	ctx := context.Background()
	m, err := b.lib.importFile(ctx, file, b.hashers.shareHasher(ctx), func(done int64) {
		b.update(key, func(s *swarm.FileStats) { s.Received = done })
	})
	if err == nil {
		err = b.addAlone(ctx, m)
	}
	if err != nil {
		b.log.Error("share", "file", file.Get("name").String(), "err", err)
		b.fail(key, err)
		return nil, errors.New(errorText(err))
	}
	b.drop(key)
	return m.Digest.String(), nil
}

// link returns d's share link at origin (the page's own when empty), or
// null for a malformed digest.
func link(digest, origin string) any {
	d, err := swarm.ParseDigest(digest)
	if err != nil {
		return js.Null()
	}
	if origin == "" {
		origin = js.Global().Get("location").Get("origin").String()
	}
	return swarm.ShareLink(origin, d)
}

// parseLink returns the digest in text, a digest or share link
// (swarm.ParseLink), or null when there is none.
func parseLink(text string) any {
	l, err := swarm.ParseLink(text)
	if err != nil {
		return js.Null()
	}
	return l.Digest.String()
}

func (b *bridge) get(text string) (any, error) {
	l, err := swarm.ParseLink(text)
	d := l.Digest
	if err != nil {
		b.fail(b.row(swarm.FileStats{Name: strings.TrimSpace(text)}), err)
		return nil, errors.New(errorText(err))
	}
	if _, ok := b.node.Collection(d); ok {
		return d.String(), nil
	}
	if m := b.node.Manifest(d); m != nil { // asked for alone: kept when a collection it is in goes
		return d.String(), b.addAlone(context.Background(), m)
	}
	key := b.row(swarm.FileStats{Digest: d.String(), Name: d.String()[:12] + "…", State: swarm.StateDownloading})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, c, err := b.node.Lookup(ctx, d)
	switch {
	case err != nil:
	case c != nil:
		err = b.addCollection(ctx, c)
	default:
		err = b.addAlone(ctx, m)
	}
	if err != nil {
		b.fail(key, err)
		return nil, errors.New(errorText(err))
	}
	b.drop(key)
	return d.String(), nil
}

// open adds the files a .p2t's text describes; when it is invalid, an
// error row named after the file it came from (name, a string, or a
// default) says why.
func (b *bridge) open(text string, name js.Value) (any, error) {
	m, c, err := swarm.ParseP2T([]byte(text), swarm.Hash{})
	switch {
	case err != nil:
	case c != nil:
		err = b.addCollection(context.Background(), c)
	default:
		err = b.addAlone(context.Background(), m)
	}
	if err != nil {
		row := "a .p2t file"
		if name.Type() == js.TypeString && name.String() != "" {
			row = name.String()
		}
		b.fail(b.row(swarm.FileStats{Name: row}), err)
		return nil, errors.New(errorText(err))
	}
	if c != nil {
		return c.Digest.String(), nil
	}
	return m.Digest.String(), nil
}

// blob returns a complete file as a Blob made of its stored parts, for
// saving or a preview; its bytes are not read.
func (b *bridge) blob(digest string) (js.Value, *swarm.Manifest, error) {
	d, err := swarm.ParseDigest(digest)
	if err != nil {
		return js.Value{}, nil, err
	}
	m := b.node.Manifest(d)
	if m == nil {
		return js.Value{}, nil, swarm.ErrNotFound
	}
	blob, err := b.lib.fileBlob(context.Background(), m)
	if err != nil {
		return js.Value{}, nil, errors.New(errorText(err))
	}
	return blob, m, nil
}

func (b *bridge) save(digest string) error {
	blob, m, err := b.blob(digest)
	if err != nil {
		return err
	}
	urlAPI := js.Global().Get("URL")
	href := urlAPI.Call("createObjectURL", blob)
	a := js.Global().Get("document").Call("createElement", "a")
	a.Set("href", href)
	a.Set("download", m.Name)
	js.Global().Get("document").Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	go func() {
		time.Sleep(time.Minute)
		urlAPI.Call("revokeObjectURL", href)
	}()
	return nil
}

func (b *bridge) remove(key string) error {
	b.mu.Lock()
	for k, s := range b.rows {
		if k == key || (s.Digest == key && s.State == swarm.StateError) {
			delete(b.rows, k)
		}
	}
	b.mu.Unlock()
	b.rowChanged()
	d, err := swarm.ParseDigest(key)
	if err != nil {
		return nil // a placeholder row
	}
	if ok, err := b.forgetCollection(context.Background(), d); ok {
		return err
	}
	forgetAlone(d)
	return b.node.Remove(context.Background(), d)
}

func (b *bridge) manifest(digest string) any {
	d, err := swarm.ParseDigest(digest)
	if err != nil {
		return js.Null()
	}
	if raw := b.collectionManifest(d); raw != "" {
		return raw
	}
	m := b.node.Manifest(d)
	if m == nil {
		return js.Null()
	}
	raw, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return js.Null()
	}
	return string(raw)
}

// rowStats is a file as the page sees it: a node file, or a placeholder
// row keyed by Key.
type rowStats struct {
	swarm.FileStats
	Key string `json:"key"`
}

func (b *bridge) stats() any {
	s := b.node.Stats()
	out := struct {
		PeerID      string                  `json:"peer_id"`
		Files       []rowStats              `json:"files"`
		Collections []swarm.CollectionStats `json:"collections"`
	}{PeerID: s.PeerID, Files: []rowStats{}, Collections: s.Collections}
	for _, f := range s.Files {
		out.Files = append(out.Files, rowStats{FileStats: f, Key: f.Digest})
	}
	held := make(map[string]bool, len(s.Files))
	for _, f := range s.Files {
		held[f.Digest] = true
	}
	b.mu.Lock()
	for k, r := range b.rows {
		if !held[r.Digest] {
			out.Files = append(out.Files, rowStats{FileStats: *r, Key: k})
		}
	}
	b.mu.Unlock()
	// One JSON.parse builds the object faster than js.ValueOf on nested
	// maps would.
	raw, err := json.Marshal(out)
	if err != nil {
		raw = []byte("{}")
	}
	return js.Global().Get("JSON").Call("parse", string(raw))
}
