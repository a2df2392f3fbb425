package tracker

import (
	"net/http"
	"time"
)

// ioDeadlines bounds how long a request may take to arrive and how long its
// response may stall. Reading the request, headers and body, must end
// within ReadTimeout of the handler's start (a request that names a body
// and sends none is cut then, instead of holding a connection for good);
// each write of the response must progress within WriteTimeout (a client
// that stops reading a download is cut then, however large the file, while
// a slow one that keeps reading is not). Routes that live long (the
// WebSocket once upgraded, the stats stream) set their own.
func (t *Tracker) ioDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(t.opts.ReadTimeout)) // fails only where there is no connection (tests)
		next.ServeHTTP(&progressWriter{ResponseWriter: w, rc: rc, timeout: t.opts.WriteTimeout}, r)
	})
}

// progressWriter writes in pieces of at most progressPiece bytes, each with
// a fresh write deadline.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// progressPiece is how much a client must take within one write timeout.
const progressPiece = 64 << 10

func (w *progressWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		piece := b[:min(len(b), progressPiece)]
		w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
		m, err := w.ResponseWriter.Write(piece)
		n += m
		if err != nil {
			return n, err
		}
		b = b[len(piece):]
	}
	return n, nil
}

// Unwrap lets http.ResponseController reach the connection (Flush, Hijack,
// deadlines).
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// noDeadlines clears the deadlines ioDeadlines set, for a route that lives
// long and bounds its own reads and writes.
func noDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
}
