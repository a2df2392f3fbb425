//go:build !js

package signaling

import (
	"net/http"

	"github.com/coder/websocket"
)

// dialWith returns the URL and options a native peer dials the tracker
// with: the token, if any, in an "Authorization: Bearer" header, so that it
// is in no URL that a log or an error could print.
func dialWith(url, token string) (string, *websocket.DialOptions) {
	if token == "" {
		return url, nil
	}
	return url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}}
}
