//go:build js

// Command wasm is the tabswarm peer that runs in a browser tab. It keeps
// chunks in IndexedDB, joins swarms through the tracker that served the
// page, and exposes window.tabswarm to the page's script:
//
//	share(file)      Promise<digest>: read, hash and store a File, then seed it
//	get(text)        Promise<digest>: download by digest, share link or URL
//	open(p2tText)    Promise<digest>: download from a .p2t manifest
//	save(digest)     Promise: hand the finished file to the browser's downloads
//	manifest(digest) string: the .p2t manifest (JSON)
//	remove(digest)   Promise: stop sharing and delete the chunks
//	stats()          string: JSON snapshot of this tab and its files
//
// Caveats of js/wasm: Go's memory only grows, and wasm32 stops at 4 GiB,
// so a file is never held whole; chunks pass through one at a time. Every
// JS callback returns at once and hands its work to a goroutine.
package main

import (
	"context"
	"log/slog"
	"strings"
	"syscall/js"

	"tabswarm/swarm"
)

func main() {
	ctx := context.Background()
	level := slog.LevelInfo
	if strings.Contains(js.Global().Get("location").Get("search").String(), "debug") {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(consoleWriter{}, &slog.HandlerOptions{Level: level}))
	lib, err := openDB(ctx)
	if err != nil {
		log.Error("storage unavailable", "err", err)
		js.Global().Call("dispatchEvent", js.Global().Get("CustomEvent").New("tabswarm-error",
			js.ValueOf(map[string]any{"detail": err.Error()})))
		select {}
	}
	node := swarm.NewNode(swarm.Options{Tracker: trackerURL(), Library: lib, Logger: log})
	b := newBridge(node, lib, log)
	js.Global().Set("tabswarm", b.export())
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("tabswarm-ready"))
	if err := node.Run(ctx); err != nil {
		log.Error("peer stopped", "err", err)
	}
}

// trackerURL is the signalling endpoint at the page's own origin.
func trackerURL() string {
	loc := js.Global().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	return scheme + loc.Get("host").String() + "/ws"
}

// consoleWriter sends log lines to the browser console.
type consoleWriter struct{}

func (consoleWriter) Write(p []byte) (int, error) {
	js.Global().Get("console").Call("log", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
