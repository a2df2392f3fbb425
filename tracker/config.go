package tracker

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ICEServer is one STUN or TURN server, in the shape of the browser's
// RTCIceServer (and pion's webrtc.ICEServer).
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// iceSchemes are the URL schemes of RFC 7064 and RFC 7065.
var iceSchemes = []string{"stun:", "stuns:", "turn:", "turns:"}

// maxICEServerLen bounds one ParseICEServer input.
const maxICEServerLen = 2048

// ParseICEServer parses "URL" or "USERNAME:CREDENTIAL@URL", where URL is a
// stun:, stuns:, turn: or turns: URL, as in
//
//	stun:stun.example.org:3478
//	alice:s3cret@turn:turn.example.org:3478?transport=tcp
//
// The username cannot hold a colon; the credential may hold anything but
// the "@scheme:" that starts the URL. TURN needs a username and credential.
func ParseICEServer(s string) (ICEServer, error) {
	if len(s) > maxICEServerLen {
		return ICEServer{}, fmt.Errorf("ICE server is %d bytes, more than %d", len(s), maxICEServerLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return ICEServer{}, fmt.Errorf("ICE server %q holds spaces or control characters", redact(s))
	}
	var srv ICEServer
	rest := s
	at := -1
	for _, scheme := range iceSchemes {
		at = max(at, strings.LastIndex(strings.ToLower(s), "@"+scheme))
	}
	if at >= 0 {
		user, cred, ok := strings.Cut(s[:at], ":")
		if !ok || user == "" || cred == "" {
			return ICEServer{}, errors.New("ICE server credentials must be USERNAME:CREDENTIAL@")
		}
		srv.Username, srv.Credential, rest = user, cred, s[at+1:]
	}
	lower := strings.ToLower(rest)
	scheme := ""
	for _, sc := range iceSchemes {
		if strings.HasPrefix(lower, sc) {
			scheme = sc
		}
	}
	switch {
	case scheme == "":
		return ICEServer{}, fmt.Errorf("ICE server %q: want a stun:, stuns:, turn: or turns: URL", redact(s))
	case len(rest) == len(scheme) || strings.HasPrefix(rest[len(scheme):], "?"):
		return ICEServer{}, fmt.Errorf("ICE server %q has no host", redact(s))
	case strings.HasPrefix(scheme, "turn") && srv.Username == "":
		return ICEServer{}, fmt.Errorf("TURN server %q needs USERNAME:CREDENTIAL@ before it", rest)
	}
	srv.URLs = []string{rest}
	return srv, nil
}

// redact returns s with whatever may be credentials (all before its last
// "@") hidden.
func redact(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "***" + s[i:]
	}
	return s
}

// configBody is GET /api/config: what a page needs to know to join.
type configBody struct {
	// ICEServers go to every RTCPeerConnection (pion: webrtc.ICEServer);
	// empty on a LAN.
	ICEServers []ICEServer `json:"ice_servers"`
	// Private says the tracker wants a token; a page that got this body
	// already sent a good one.
	Private bool `json:"private"`
	// URLs are Options.URLs: where other devices reach this tracker.
	URLs []string `json:"urls"`
}

// getConfig answers GET /api/config.
func (t *Tracker) getConfig(w http.ResponseWriter, r *http.Request) {
	ice := t.opts.ICEServers
	if ice == nil {
		ice = []ICEServer{}
	}
	urls := t.opts.URLs
	if urls == nil {
		urls = []string{}
	}
	writeJSON(w, http.StatusOK, configBody{ICEServers: ice, Private: t.opts.Token != "", URLs: urls})
}
