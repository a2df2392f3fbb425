package tracker

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"
)

// dashboardFS holds /stats: its page template, script and style.
//
//go:embed dashboard
var dashboardFS embed.FS

// dashboard serves /stats: a page rendered on the server with the current
// statistics (every peer-supplied string escaped by html/template), and
// dashboard.js, which keeps it live from /api/stats/events and renders
// with textContent only, with the app's format.js (Options.App) for its
// helpers. Nothing is inline, so the CSP holds.
type dashboard struct {
	page   *template.Template
	script *asset
	style  *asset
}

func newDashboard() *dashboard {
	page := template.Must(template.New("stats.html").Funcs(template.FuncMap{
		"bytes":   formatBytes,
		"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
		"uptime":  func(s float64) string { return (time.Duration(s) * time.Second).String() },
		"rate":    func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"copies":  func(n int) int { return min(n, 2) },
		"health":  healthText,
	}).ParseFS(dashboardFS, "dashboard/stats.html"))
	load := func(name string) *asset {
		a := &asset{}
		if err := a.load(dashboardFS, name); err != nil {
			panic(err) // embedded: cannot fail
		}
		return a
	}
	return &dashboard{page: page, script: load("dashboard/dashboard.js"), style: load("dashboard/dashboard.css")}
}

// pageData is what stats.html renders. Stats is nil when the tracker is
// private and the request had no token: the script then asks for it.
type pageData struct {
	Stats   *statsBody
	Private bool
}

// getPage answers GET /stats.
func (t *Tracker) getPage(w http.ResponseWriter, r *http.Request) {
	data := pageData{Private: t.opts.Token != ""}
	if t.authorized(r) {
		s := t.snapshot(r.Context())
		data.Stats = &s
	}
	var buf bytes.Buffer
	if err := t.dash.page.Execute(&buf, data); err != nil {
		t.log.Error("tracker: rendering /stats", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// serveAsset serves one prepared dashboard file.
func serveAsset(a *asset) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.plain))
	}
}

// healthText says how many full copies of a swarm's file are online; the
// dashboard's script words it the same way.
func healthText(seeders int) string {
	switch seeders {
	case 0:
		return "no full copy online"
	case 1:
		return "1 full copy online"
	}
	return fmt.Sprintf("%d full copies online", seeders)
}

// formatBytes renders n bytes with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
