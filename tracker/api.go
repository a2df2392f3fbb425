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
	Manifest json.RawMessage      `json:"manifest"`
	Peers    []signaling.PeerInfo `json:"peers"`
}

// getFile answers GET /api/files/{digest}: the manifest and up to
// MaxPeersPerReply peers, 400 for a malformed digest, 404 for an unknown one.
func (t *Tracker) getFile(w http.ResponseWriter, r *http.Request) {
	d, err := swarm.ParseDigest(chi.URLParam(r, "digest"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errorf(signaling.CodeBadDigest, "%v", err))
		return
	}
	manifest, peers, ok := t.reg.query(d, "", t.opts.MaxPeersPerReply)
	if !ok {
		writeError(w, http.StatusNotFound, errorf(signaling.CodeUnknownFile, "no peer holds %s", d))
		return
	}
	writeJSON(w, http.StatusOK, fileInfo{Manifest: manifest, Peers: peers})
}

// stats is the body of GET /api/stats.
type stats struct {
	Peers  int `json:"peers"`
	Swarms int `json:"swarms"`
}

func (t *Tracker) getStats(w http.ResponseWriter, r *http.Request) {
	peers, swarms := t.reg.counts()
	writeJSON(w, http.StatusOK, stats{Peers: peers, Swarms: swarms})
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
