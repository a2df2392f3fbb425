//go:build js

package main

import (
	"context"
	"syscall/js"

	"tabswarm/swarm"
)

// aloneKey prefixes the localStorage key of each file this tab holds for
// itself (shared, fetched or opened alone), so that after a reload removing
// a collection it is also part of still keeps it (swarm.Node.Add).
const aloneKey = "tabswarm.alone."

// addAlone adds m's file to the node as held for itself, and remembers so.
func (b *bridge) addAlone(ctx context.Context, m *swarm.Manifest) error {
	if _, err := call(js.Global().Get("localStorage"), "setItem", aloneKey+m.Digest.String(), "1"); err != nil {
		b.log.Warn("remembering a file shared alone", "file", m.Digest, "err", err)
	}
	_, err := b.node.Add(ctx, m)
	return err
}

// forgetAlone forgets that file d was held for itself.
func forgetAlone(d swarm.Hash) {
	js.Global().Get("localStorage").Call("removeItem", aloneKey+d.String())
}

// restoreAlone holds for themselves again the stored files that were.
func (b *bridge) restoreAlone(ctx context.Context) {
	ms, err := b.lib.Files(ctx)
	if err != nil {
		b.log.Error("restoring files shared alone", "err", err)
		return
	}
	ls := js.Global().Get("localStorage")
	for _, m := range ms {
		if ls.Call("getItem", aloneKey+m.Digest.String()).Type() != js.TypeString {
			continue
		}
		if _, err := b.node.Add(ctx, m); err != nil {
			b.log.Error("restoring a file shared alone", "file", m.Digest, "err", err)
		}
	}
}
