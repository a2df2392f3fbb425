//go:build js

package signaling

import (
	"net/url"

	"github.com/coder/websocket"
)

// dialWith returns the URL and options a browser peer dials the tracker
// with: the token, if any, as the URL's "token" query parameter, the one
// way a browser's WebSocket can carry it. Errors and logs print the URL
// through redact.
func dialWith(raw, token string) (string, *websocket.DialOptions) {
	if token == "" {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw, nil // Run has parsed it already
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
