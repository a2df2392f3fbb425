//go:build js

// Command wasm is the tabswarm peer that runs in a browser tab. It keeps
// chunks in IndexedDB, joins swarms through the tracker that served the
// page, and exposes window.tabswarm to the page's script:
//
//	share(file)      Promise<digest>: read, hash and store a File, then seed it
//	get(text)        Promise<digest>: download by digest, share link or URL
//	open(text, name) Promise<digest>: download from a .p2t manifest's text;
//	                 an invalid one gets an error row called name
//	save(digest)     Promise: hand the finished file to the browser's downloads
//	manifest(digest) string: the .p2t manifest (JSON)
//	remove(digest)   Promise: stop sharing and delete the chunks
//	stats()          object: snapshot of this tab and its files
//	onchange         set it to a function: called after the snapshot changes
//	link(digest, [origin]) string: the share link (origin/#digest), or null
//	parseLink(text)  string: the digest in a digest or share link, or null
//
// Caveats of js/wasm: Go's memory only grows, and wasm32 stops at 4 GiB,
// so a file is never held whole; chunks pass through one at a time. Every
// JS callback returns at once and hands its work to a goroutine.
package main

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"syscall/js"
	"time"

	"github.com/pion/webrtc/v4"

	"tabswarm/swarm"
	"tabswarm/swarm/rtc"
)

func main() {
	ctx := context.Background()
	level := slog.LevelInfo
	if strings.Contains(js.Global().Get("location").Get("search").String(), "debug") {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(consoleWriter{}, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	lib, err := openDB(ctx, dbName, dbEvents{
		Blocked: func() {
			log.Warn("waiting for other tabs to close an older version of the database")
			dispatch("tabswarm-waiting", "Waiting for the other tabswarm tabs of this browser to close: they run an older version. Reload or close them.")
		},
		Closed: func() {
			log.Warn("a newer tabswarm upgraded the database in another tab; storage closed")
			dispatch("tabswarm-updated", "tabswarm was updated in another tab: reload this page to keep sharing.")
		},
	})
	if err != nil {
		log.Error("storage unavailable", "err", err)
		dispatch("tabswarm-error", err.Error())
		select {}
	}
	token, ice := config()
	conn := rtc.New(rtc.Options{Tracker: trackerURL(), Token: token, ICEServers: ice, Logger: log})
	hash, hashName := chunkHasher()
	node := swarm.NewNode(swarm.Options{Connector: conn, Library: lib, Logger: log, Hash: hash})
	log.Info("peer starting", "chunk_sha256", hashName)
	b := newBridge(node, conn, lib, log)
	js.Global().Set("tabswarm", b.export())
	go b.notify(ctx)
	go releaseJSValues(ctx)
	sayGoodbye(conn)
	go func() {
		b.restoreAlone(ctx)
		b.restoreCollections(ctx)
	}()
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("tabswarm-ready"))
	if err := node.Run(ctx); err != nil {
		log.Error("peer stopped", "err", err)
	}
}

// sayGoodbye closes every peer connection as the page goes away (closed,
// reloaded or navigated elsewhere), so that the tab's peers hear it at
// once and ask others for the chunks it was sending, rather than wait
// seconds for ICE to give up on it.
func sayGoodbye(conn *rtc.Connector) {
	js.Global().Call("addEventListener", "pagehide", js.FuncOf(func(js.Value, []js.Value) any {
		conn.CloseAll()
		return nil
	}))
}

// dispatch fires a CustomEvent called name at the page's window, with
// detail as its detail.
func dispatch(name, detail string) {
	js.Global().Call("dispatchEvent", js.Global().Get("CustomEvent").New(name,
		js.ValueOf(map[string]any{"detail": detail})))
}

// releaseJSValues runs Go's garbage collector every second. A js.Value is
// released to JavaScript only when Go's collector finalizes it, and chunk
// buffers (ArrayBuffers of 256 KiB and up, outside Go's heap) pass through
// js.Values by the thousand while Go's own heap barely grows: left to
// itself the collector would rarely run, and the tab would keep every
// chunk it ever read. With a heap of a few MB a collection costs
// milliseconds.
func releaseJSValues(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			runtime.GC()
		case <-ctx.Done():
			return
		}
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

// config reads what the page learnt from the tracker's /api/config before
// starting the peer: the access token of a private tracker, and STUN or
// TURN servers.
func config() (token string, ice []webrtc.ICEServer) {
	c := js.Global().Get("tabswarmConfig")
	if c.Type() != js.TypeObject {
		return "", nil
	}
	if t := c.Get("token"); t.Type() == js.TypeString {
		token = t.String()
	}
	servers := c.Get("iceServers")
	if servers.Type() != js.TypeObject {
		return token, nil
	}
	for i := range servers.Length() {
		s := servers.Index(i)
		var srv webrtc.ICEServer
		urls := s.Get("urls")
		for j := range urls.Length() {
			srv.URLs = append(srv.URLs, urls.Index(j).String())
		}
		if u := s.Get("username"); u.Type() == js.TypeString {
			srv.Username = u.String()
		}
		if c := s.Get("credential"); c.Type() == js.TypeString {
			srv.Credential = c.String()
		}
		ice = append(ice, srv)
	}
	return token, ice
}

// consoleWriter sends log lines to the browser console.
type consoleWriter struct{}

func (consoleWriter) Write(p []byte) (int, error) {
	js.Global().Get("console").Call("log", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
