package tracker

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"tabswarm/signaling"
)

// routes builds the chi router. Every response gets the security headers;
// a request must name one of the tracker's hosts (checkHost) and gets read
// and write deadlines (ioDeadlines).
// The WebSocket route stays out of the HTTP rate limit (MaxConnsPerIP
// bounds it instead) and, with the stats stream, out of the timeout and
// throttle, which would cut long-lived connections. /ws, /api/* and
// /metrics need the token of a private tracker.
func (t *Tracker) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestLogger(t.log), middleware.Recoverer, securityHeaders, t.checkHost, t.ioDeadlines)
	r.With(t.requireToken).Get("/ws", t.serveWS)
	r.Group(func(r chi.Router) {
		r.Use(t.rateLimit())
		r.With(t.requireToken).Get("/api/stats/events", t.streamStats)
		r.Group(func(r chi.Router) {
			r.Use(middleware.Timeout(t.opts.RequestTimeout), t.limitRequests)
			r.Get("/healthz", t.getHealth)
			r.With(t.requireToken).Method(http.MethodGet, "/metrics", t.metrics.handler())
			r.Get("/stats", t.getPage)
			r.Get("/stats/dashboard.js", serveAsset(t.dash.script))
			r.Get("/stats/dashboard.css", serveAsset(t.dash.style))
			r.Get("/qr.svg", t.getQR)
			r.Route("/api", func(r chi.Router) {
				r.Use(t.requireToken)
				r.Get("/config", t.getConfig)
				r.Get("/files/{digest}", t.getFile)
				r.Get("/stats", t.getStats)
				r.Get("/stats/history", t.getHistory)
				r.HandleFunc("/*", func(w http.ResponseWriter, r *http.Request) {
					writeError(w, http.StatusNotFound, errorf("not_found", "no API route %s %s", r.Method, r.URL.Path))
				})
			})
			r.Get("/*", t.app.ServeHTTP)
			r.Head("/*", t.app.ServeHTTP)
		})
	})
	return r
}

// limitRequests bounds the requests in flight, in all and per client
// address (Options.MaxConcurrentRequests, MaxRequestsPerIP), with 429.
func (t *Tracker) limitRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientKey(r)
		if err := t.requests.take(ip); err != nil {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, errorf(signaling.CodeRateLimited, "%v", err))
			return
		}
		defer t.requests.give(ip)
		next.ServeHTTP(w, r)
	})
}
