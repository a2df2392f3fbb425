package tracker

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tabswarm/signaling"
)

// statsNames returns the names /api/stats lists for the members of the
// first swarm, by short peer ID.
func statsNames(t *testing.T, s *server) map[string]string {
	t.Helper()
	_, _, body := httpGet(t, s.base+"/api/stats", nil)
	var b statsBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("/api/stats %s: %v", body, err)
	}
	names := map[string]string{}
	for _, sw := range b.Swarms {
		for _, p := range sw.Peers {
			names[p.ID] = p.Name
		}
	}
	return names
}

// TestHelloName checks that a hello's name is kept cleaned and shown in
// /api/stats, and that a name too long is refused with bad_message and
// leaves the old name.
func TestHelloName(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	a := s.dial(t)
	f := newFile(t, 1<<20)
	a.mustOK(f.announce(1, 0, true))
	short := a.id[:shortPeerLen]
	if got := statsNames(t, s)[short]; got != "" {
		t.Fatalf("name before any hello: %q", got)
	}

	a.mustOK(signaling.Message{Type: signaling.TypeHello, ID: 2, Name: "  Blue\u202e  \tOtter\x07 <b>"})
	if got := statsNames(t, s)[short]; got != "Blue Otter <b>" {
		t.Errorf("cleaned name %q, want %q", got, "Blue Otter <b>")
	}
	_, _, page := httpGet(t, s.base+"/stats", nil)
	for _, want := range []string{`<span class="peer-name">Blue Otter &lt;b&gt;</span> <code>` + short, `data-copies="1">1 full copy online<`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/stats lacks %s", want)
		}
	}
	for i, bad := range []string{
		strings.Repeat("x", signaling.MaxNameLen+1),
		strings.Repeat("é", signaling.MaxNameLen+1),
	} {
		id := uint64(3 + i)
		wantError(t, a.request(signaling.Message{Type: signaling.TypeHello, ID: id, Name: bad}), signaling.CodeBadMessage, id)
	}
	a.sendRaw([]byte(`{"type":"hello","id":9,"name":{"x":1}}`))
	wantError(t, a.recv(), signaling.CodeBadMessage, 9)
	if got := statsNames(t, s)[short]; got != "Blue Otter <b>" {
		t.Errorf("after bad hellos the name is %q, want it unchanged", got)
	}
	a.mustOK(signaling.Message{Type: signaling.TypeHello, ID: 10, Name: ""})
	if got := statsNames(t, s)[short]; got != "" {
		t.Errorf("an empty hello left %q", got)
	}
}

// TestClientSetName checks that a Client says its name after the welcome
// when it was set before, and at once when set while connected.
func TestClientSetName(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 1<<20)
	var client *signaling.Client
	client = signaling.NewClient(s.wsURL(), signaling.Options{
		OnConnect: func(ctx context.Context, peerID string) { client.Request(ctx, f.announce(0, 0, true)) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	if got, err := client.SetName(ctx, " Early\u200b Bird "); err != nil || got != "Early Bird" {
		t.Fatalf("SetName: %q %v", got, err)
	}
	if _, err := client.SetName(ctx, strings.Repeat("y", 99)); err == nil {
		t.Error("SetName took a name of 99 characters")
	}
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx) }()
	defer func() { cancel(); <-done }()
	named := func(want string) func() bool {
		return func() bool {
			id := client.PeerID()
			return len(id) >= shortPeerLen && statsNames(t, s)[id[:shortPeerLen]] == want
		}
	}
	eventually(t, "the name said after the welcome", named("Early Bird"))
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	if _, err := client.SetName(sctx, "Late Owl"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the name changed while connected", named("Late Owl"))
}
