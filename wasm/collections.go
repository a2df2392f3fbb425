//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"syscall/js"

	"tabswarm/swarm"
)

// collectionKey prefixes the localStorage key of each collection this tab
// holds: its .p2t, so that a reload finds the set again (its files are in
// IndexedDB like any other).
const collectionKey = "tabswarm.collection."

// shareSet shares several Files (picked, dropped, or a folder chosen) as one
// collection: each is imported and seeded as its own file, then the set is
// announced. A folder's files keep their paths under it: from given, an
// array of paths beside the files (a dropped folder's), or else from each
// File's webkitRelativePath (a folder chosen in the picker).
func (b *bridge) shareSet(list, given js.Value) (any, error) {
	n := list.Length()
	if n == 0 {
		return nil, errors.New("shareSet needs Files")
	}
	withPaths := given.Type() == js.TypeObject && given.Length() == n
	files := make([]js.Value, n)
	rels := make([]string, n)
	for i := range n {
		files[i] = list.Index(i)
		rels[i] = files[i].Get("name").String()
		if withPaths {
			rels[i] = given.Index(i).String()
		} else if rp := files[i].Get("webkitRelativePath"); rp.Type() == js.TypeString && rp.String() != "" {
			rels[i] = rp.String()
		}
	}
	name, paths := setPaths(rels)
	key := b.row(swarm.FileStats{Name: name, State: swarm.StatePreparing})
	c, err := b.importSet(files, name, paths, key)
	if err != nil {
		b.log.Error("share set", "name", name, "err", err)
		b.fail(key, err)
		return nil, errors.New(errorText(err))
	}
	b.drop(key)
	return c.Digest.String(), nil
}

func (b *bridge) importSet(files []js.Value, name string, paths []string, key string) (*swarm.Collection, error) {
	ctx := context.Background()
	entries := make([]swarm.Entry, len(files))
	var done int64
	for i, f := range files {
		m, err := b.lib.importFile(ctx, f, b.hashers.shareHasher(ctx), func(n int64) {
			b.update(key, func(s *swarm.FileStats) { s.Received = done + n })
		})
		if err == nil {
			_, err = b.node.AddMember(ctx, m)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", paths[i], err)
		}
		done += m.Size
		entries[i] = swarm.Entry{Path: paths[i], Digest: m.Digest, Size: m.Size}
	}
	c, err := swarm.NewCollection(name, entries)
	if err != nil {
		return nil, err
	}
	return c, b.addCollection(ctx, c)
}

// setPaths names a set of files and gives each a distinct safe path: a
// folder's files (all under one first element) are named after it and keep
// the rest of their path; loose files keep their names, a repeated name
// getting " (2)", " (3)"... before its extension.
func setPaths(rels []string) (string, []string) {
	name := fmt.Sprintf("%d files", len(rels))
	root, _, _ := strings.Cut(rels[0], "/")
	for _, r := range rels {
		if !strings.HasPrefix(r, root+"/") {
			root = ""
			break
		}
	}
	if root != "" {
		name = root
	}
	seen := map[string]bool{}
	paths := make([]string, len(rels))
	for i, r := range rels {
		base := cleanPath(strings.TrimPrefix(r, root+"/"))
		ext := path.Ext(base)
		p := base
		for k := 2; seen[p]; k++ {
			p = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(base, ext), k, ext)
		}
		seen[p], paths[i] = true, p
	}
	return name, paths
}

// cleanPath turns what a browser reports into a safe entry path: each
// character swarm.CheckPath refuses (control, backslash, bidirectional
// control) becomes "_", and empty, "." and ".." elements go.
func cleanPath(p string) string {
	p = strings.Map(func(r rune) rune {
		if swarm.BadPathRune(r) {
			return '_'
		}
		return r
	}, p)
	var els []string
	for _, el := range strings.Split(p, "/") {
		if el != "" && el != "." && el != ".." {
			els = append(els, el)
		}
	}
	if len(els) == 0 {
		return "file"
	}
	return strings.Join(els, "/")
}

// addCollection keeps c in localStorage and adds it to the node.
func (b *bridge) addCollection(ctx context.Context, c *swarm.Collection) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := call(js.Global().Get("localStorage"), "setItem", collectionKey+c.Digest.String(), string(raw)); err != nil {
		return fmt.Errorf("keeping the collection: %w", err)
	}
	return b.node.AddCollection(ctx, c)
}

// restoreCollections adds the collections kept in localStorage. A kept
// record that is not a collection with the digest its key names can never
// load: it is dropped, with one log line, not logged at every reload.
func (b *bridge) restoreCollections(ctx context.Context) {
	ls := js.Global().Get("localStorage")
	for i := ls.Length() - 1; i >= 0; i-- {
		k := ls.Call("key", i)
		if k.Type() != js.TypeString || !strings.HasPrefix(k.String(), collectionKey) {
			continue
		}
		key := k.String()
		c, err := parseKept(key, ls.Call("getItem", key).String())
		if err != nil {
			ls.Call("removeItem", key)
			b.log.Error("dropped a kept collection that does not load", "key", key, "err", err)
			continue
		}
		if err := b.node.AddCollection(ctx, c); err != nil {
			b.log.Error("restoring a collection", "key", key, "err", err)
		}
	}
}

// parseKept parses the collection kept under key, checked against the
// digest the key names.
func parseKept(key, text string) (*swarm.Collection, error) {
	d, err := swarm.ParseDigest(strings.TrimPrefix(key, collectionKey))
	if err != nil {
		return nil, err
	}
	return swarm.ParseCollection([]byte(text), d)
}

// forgetCollection removes collection d (and its files nothing else uses),
// if the tab holds it.
func (b *bridge) forgetCollection(ctx context.Context, d swarm.Hash) (bool, error) {
	if _, ok := b.node.Collection(d); !ok {
		return false, nil
	}
	js.Global().Get("localStorage").Call("removeItem", collectionKey+d.String())
	return true, b.node.RemoveCollection(ctx, d)
}

// collectionManifest is the .p2t of a collection the tab holds, or "".
func (b *bridge) collectionManifest(d swarm.Hash) string {
	v := js.Global().Get("localStorage").Call("getItem", collectionKey+d.String())
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}
