// Package tracker is the tabswarm tracker: the swarm registry, the WebSocket
// signalling endpoint peers dial, a small JSON API, and the web app itself.
//
// Routes:
//
//	GET /ws                 signalling WebSocket (see package signaling)
//	GET /api/files/{digest} a file's manifest and some of its peers
//	GET /api/stats          counts of connected peers and known swarms
//	GET /, /app.js, ...     the web app (Options.App), gzip when accepted
//
// The swarm table is soft state: it lives in memory only, a peer leaves every
// swarm when its connection drops, an empty swarm is forgotten, and after a
// restart the table rebuilds itself as peers reconnect and re-announce.
//
// The tracker never carries file bytes. It relays WebRTC set-up between
// peers without reading it beyond the addressee.
//
// The WebSocket route keeps coder/websocket's default origin check: a page
// may connect only from the tracker's own origin (native peers send no
// Origin and are allowed).
package tracker
