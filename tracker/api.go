package tracker

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

// fileInfo is the body of GET /api/files/{digest}.
type fileInfo struct {
	Manifest json.RawMessage `json:"manifest"`
	Peers    []filePeer      `json:"peers"`
}

// filePeer is a holder in fileInfo, with the node of the cluster it is
// connected to.
type filePeer struct {
	signaling.PeerInfo
	Node string `json:"node"`
}

// getFile answers GET /api/files/{digest}: the manifest and up to
// MaxPeersPerReply peers, 400 for a malformed digest, 404 for an unknown one.
func (t *Tracker) getFile(w http.ResponseWriter, r *http.Request) {
	d, err := swarm.ParseDigest(chi.URLParam(r, "digest"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errorf(signaling.CodeBadDigest, "%v", err))
		return
	}
	manifest, peers, e := t.find(r.Context(), d, nil, t.opts.MaxPeersPerReply)
	if e != nil {
		writeError(w, http.StatusNotFound, e)
		return
	}
	info := fileInfo{Manifest: manifest, Peers: make([]filePeer, len(peers))}
	for i, p := range peers {
		info.Peers[i] = filePeer{PeerInfo: p, Node: peerNode(p.ID)}
	}
	writeJSON(w, http.StatusOK, info)
}

// health is the body of GET /healthz.
type health struct {
	Status string `json:"status"`
}

// getHealth answers GET /healthz: 200 while serving, 503 once shutting down.
func (t *Tracker) getHealth(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		writeJSON(w, http.StatusServiceUnavailable, health{Status: "shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, health{Status: "ok"})
}

// writeError writes a JSON {code, message} body.
func writeError(w http.ResponseWriter, status int, e *signaling.Error) {
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(mustMarshal(v))
}
