package tracker

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/go-chi/httprate"

	"tabswarm/signaling"
)

// contentSecurityPolicy lets pages run only the tracker's own scripts (and
// compile the wasm peer), talk only to the tracker, and never be framed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the hardening headers on every response. Not
// Cross-Origin-Opener-Policy: browsers ignore it on plain-HTTP LAN pages and
// say so in the console.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// no-referrer also keeps a token in a URL from leaking onward.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// clientKey is the address a client's connections and requests count
// against: its IP, or for IPv6 its /64. It trusts RemoteAddr only, never a
// forwarding header.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host)
}

// rateLimit bounds plain HTTP requests per client address.
func (t *Tracker) rateLimit() func(http.Handler) http.Handler {
	return httprate.LimitBy(t.opts.HTTPRate, 60e9, func(r *http.Request) (string, error) {
		return clientKey(r), nil
	}, httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusTooManyRequests, errorf(signaling.CodeRateLimited, "too many requests from your address; wait a minute"))
	}))
}

// requireToken refuses requests without the tracker's token, when it has
// one, with 401 and code unauthorized.
func (t *Tracker) requireToken(next http.Handler) http.Handler {
	if t.opts.Token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.authorized(r) {
			t.metrics.refusedIfWS(r, refusedToken)
			w.Header().Set("WWW-Authenticate", `Bearer realm="tabswarm"`)
			writeError(w, http.StatusUnauthorized, errorf(signaling.CodeUnauthorized, "this tracker is private: send its token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries the token (always true for an open
// tracker), as "Authorization: Bearer <token>" or a "token" query
// parameter. The comparison takes the same time whatever the guess.
func (t *Tracker) authorized(r *http.Request) bool {
	if t.opts.Token == "" {
		return true
	}
	return tokenMatches(t.opts.Token, requestToken(r))
}

// requestToken returns the token r carries, or "".
func requestToken(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("token")
}

// tokenMatches compares in constant time; hashing first hides the length.
func tokenMatches(want, got string) bool {
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return got != "" && subtle.ConstantTimeCompare(w[:], g[:]) == 1
}

// refusedIfWS counts a refused WebSocket handshake.
func (m *metrics) refusedIfWS(r *http.Request, reason string) {
	if r.URL.Path == "/ws" {
		m.refused.WithLabelValues(reason).Inc()
	}
}

// originAllowed reports whether a page at r's Origin may open the
// WebSocket: no Origin (a native peer), the tracker's own host as the
// request names it, or a match for one of patterns. It follows the rules
// of coder/websocket's AcceptOptions.OriginPatterns, which the handshake
// then applies again.
func originAllowed(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("origin %q is not a URL with a host", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); ok && err == nil {
			return nil
		}
	}
	return fmt.Errorf("origin %q may not connect to %q (see --allow-origin)", origin, r.Host)
}

// CheckOriginPattern reports whether p is a usable Options.AllowOrigins
// pattern.
func CheckOriginPattern(p string) error {
	if p == "" || p == "*" {
		return fmt.Errorf("origin pattern %q would allow every page", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("origin pattern %q: %w", p, err)
	}
	return nil
}

// checkHost refuses, with 421 and code forbidden_host, a request whose Host
// is not a name the tracker answers to (see Options.Hosts).
func (t *Tracker) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, t.opts.Hosts, t.opts.AllowOrigins) {
			writeError(w, http.StatusMisdirectedRequest, errorf(signaling.CodeBadHost,
				"this tracker does not answer to the name %q (start it with --host NAME to let it)", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether hostport, a Host header, is an IP address,
// localhost, or matches one of names or the hosts of origins.
func hostAllowed(hostport string, names, origins []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	hostport = strings.ToLower(hostport)
	if ip, _, _ := strings.Cut(host, "%"); host == "" || net.ParseIP(ip) != nil {
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	match := func(p string) bool {
		p = strings.ToLower(p)
		a, err1 := path.Match(p, host)
		b, err2 := path.Match(p, hostport)
		return (a && err1 == nil) || (b && err2 == nil)
	}
	for _, p := range names {
		if match(p) {
			return true
		}
	}
	for _, p := range origins {
		if _, after, ok := strings.Cut(p, "://"); ok {
			p = after
		}
		if match(p) {
			return true
		}
	}
	return false
}
