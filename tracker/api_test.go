package tracker

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"tabswarm/signaling"
	"tabswarm/swarm"
)

func TestAPIFiles(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 1<<20)
	a := s.dial(t)
	a.mustOK(f.announce(1, 0, true))

	get := func(path string) (int, string, map[string]json.RawMessage) {
		t.Helper()
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var v map[string]json.RawMessage
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("GET %s: body %q is not a JSON object: %v", path, body, err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), v
	}

	status, ctype, v := get("/api/files/" + strings.ToUpper(f.digest()))
	if status != http.StatusOK || ctype != "application/json" {
		t.Fatalf("known file: %d %s", status, ctype)
	}
	m, err := swarm.ParseManifest(v["manifest"], f.m.Digest)
	if err != nil {
		t.Errorf("manifest: %v", err)
	} else if m.Name != f.m.Name {
		t.Errorf("manifest name %q, want %q", m.Name, f.m.Name)
	}
	var peers []signaling.PeerInfo
	if err := json.Unmarshal(v["peers"], &peers); err != nil || len(peers) != 1 || peers[0].ID != a.id || !peers[0].Complete {
		t.Errorf("peers %s, want only %s, complete", v["peers"], a.id)
	}

	for _, c := range []struct {
		path   string
		status int
		code   signaling.ErrorCode
	}{
		{"/api/files/" + newFile(t, 1).digest(), http.StatusNotFound, signaling.CodeUnknownFile},
		{"/api/files/nothex", http.StatusBadRequest, signaling.CodeBadDigest},
		{"/api/files/" + strings.Repeat("a", 65), http.StatusBadRequest, signaling.CodeBadDigest},
		{"/api/nothing", http.StatusNotFound, "not_found"},
	} {
		status, ctype, v := get(c.path)
		var code signaling.ErrorCode
		json.Unmarshal(v["code"], &code)
		if status != c.status || ctype != "application/json" || code != c.code || len(v["message"]) < 3 {
			t.Errorf("GET %s: %d %s %v, want %d and code %s with a message", c.path, status, ctype, v, c.status, c.code)
		}
	}

	status, _, v = get("/api/stats")
	if status != http.StatusOK || string(v["peers"]) != "1" || string(v["swarm_count"]) != "1" {
		t.Errorf("stats: %d %v", status, v)
	}
}
