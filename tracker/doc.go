// Package tracker is the tabswarm tracker: the swarm registry, the WebSocket
// signalling endpoint peers dial, a small JSON API, a live dashboard,
// metrics, and the web app itself.
//
// Routes:
//
//	GET /ws                 signalling WebSocket (see package signaling)
//	GET /api/config         what a page needs to join: {"ice_servers", "private"}
//	GET /api/files/{digest} a file's manifest and some of its peers
//	GET /api/stats          statistics: peers, swarms with each member's
//	                        progress, messages per second, reported bytes, uptime
//	GET /api/stats/events   the same as Server-Sent Events ("stats"), every 2s
//	GET /stats              the dashboard: rendered on the server, kept live
//	                        by /stats/dashboard.js (no inline script or style)
//	GET /healthz            200 {"status":"ok"}, 503 while shutting down
//	GET /metrics            Prometheus metrics, from a registry of its own
//	GET /, /app.js, ...     the web app (Options.App), gzip when accepted
//
// The swarm table is soft state: it lives in memory only, a peer leaves every
// swarm when its connection drops, an empty swarm is forgotten, and after a
// restart the table rebuilds itself as peers reconnect and re-announce.
//
// The tracker never carries file bytes. It relays WebRTC set-up between
// peers reading only who it is for, which swarm and which session: offers
// only between members of one swarm, answers only back to their offerer
// (see signaling.TypeSignal).
//
// Abuse resistance, each bound in Options: frame size, messages per second
// per connection, swarms per connection, unanswered offers per connection,
// manifest memory, swarms, connections in all and per client address, HTTP
// requests per minute per address, stats streams. Going over a per
// connection cap gets a typed error; doing so too often, a close (1008). A
// connection that does not read its messages is dropped, never waited for.
// Every response carries a Content-Security-Policy that allows only the
// tracker's own scripts (and wasm), plus nosniff, no-referrer and no
// framing. /ws checks Origin: the tracker's own host, or
// Options.AllowOrigins. Options.Token makes the tracker private.
//
// Several trackers act as one through a Bus (Options.Bus; tracker/natsbus
// over NATS): each node keeps its own peers and swarms, a peer ID ends with
// its node's ID, a signal to a peer on another node is checked on both
// nodes (the sender's side here, the addressee's there), and queries,
// /api/files and the statistics gather the other nodes' answers. In a
// cluster a swarm lives on a node while it has members there, holders or
// not, since its holders may be on other nodes.
//
// Nothing here reads flags or the environment; cmd/tabswarm does.
package tracker
