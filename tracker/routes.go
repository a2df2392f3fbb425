package tracker

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// routes builds the chi router. Every response gets the security headers.
// The WebSocket route stays out of the HTTP rate limit (MaxConnsPerIP
// bounds it instead) and, with the stats stream, out of the timeout and
// throttle, which would cut long-lived connections. /ws and /api/* need the
// token of a private tracker.
func (t *Tracker) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestLogger(t.log), middleware.Recoverer, securityHeaders)
	r.With(t.requireToken).Get("/ws", t.serveWS)
	r.Group(func(r chi.Router) {
		r.Use(t.rateLimit())
		r.With(t.requireToken).Get("/api/stats/events", t.streamStats)
		r.Group(func(r chi.Router) {
			r.Use(middleware.Timeout(t.opts.RequestTimeout), middleware.Throttle(t.opts.MaxConcurrentRequests))
			r.Get("/healthz", t.getHealth)
			r.Method(http.MethodGet, "/metrics", t.metrics.handler())
			r.Get("/stats", t.getPage)
			r.Get("/stats/dashboard.js", serveAsset(t.dash.script))
			r.Get("/stats/dashboard.css", serveAsset(t.dash.style))
			r.Get("/qr.svg", t.getQR)
			r.Route("/api", func(r chi.Router) {
				r.Use(t.requireToken)
				r.Get("/config", t.getConfig)
				r.Get("/files/{digest}", t.getFile)
				r.Get("/stats", t.getStats)
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
