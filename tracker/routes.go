package tracker

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// routes builds the chi router. The WebSocket route stays out of the group
// with the timeout and throttle, which would cut long-lived connections.
func (t *Tracker) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestLogger(t.log), middleware.Recoverer)
	r.Get("/ws", t.serveWS)
	r.Group(func(r chi.Router) {
		r.Use(middleware.Timeout(t.opts.RequestTimeout), middleware.Throttle(t.opts.MaxConcurrentRequests))
		r.Get("/api/files/{digest}", t.getFile)
		r.Get("/api/stats", t.getStats)
		r.HandleFunc("/api/*", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, errorf("not_found", "no API route %s %s", r.Method, r.URL.Path))
		})
		r.Get("/*", t.app.ServeHTTP)
		r.Head("/*", t.app.ServeHTTP)
	})
	return r
}
