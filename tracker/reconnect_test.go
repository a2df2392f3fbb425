package tracker

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tabswarm/signaling"
)

// TestClientReconnect restarts the tracker under a connected client: the
// client redials with backoff, re-announces from OnConnect, and the new
// tracker's table rebuilds itself.
func TestClientReconnect(t *testing.T) {
	s1 := startServer(t, "127.0.0.1:0", Options{})
	addr := strings.TrimPrefix(s1.base, "http://")
	f := newFile(t, 2<<20)

	var mu sync.Mutex
	var announced []string // peer IDs whose announce the tracker took
	var client *signaling.Client
	client = signaling.NewClient(s1.wsURL(), signaling.Options{
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		OnConnect: func(ctx context.Context, peerID string) {
			if _, err := client.Request(ctx, f.announce(0, 0, true)); err != nil {
				if ctx.Err() == nil { // not merely the connection dropping
					t.Errorf("announce from OnConnect: %v", err)
				}
				return
			}
			mu.Lock()
			announced = append(announced, peerID)
			mu.Unlock()
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- client.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runDone; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}()

	listed := func(s *server, id string) bool {
		status, fi := s.apiFile(t, f.digest())
		return status == http.StatusOK && slices.Contains(peerIDs(fi.Peers), id)
	}
	eventually(t, "the first announce", func() bool {
		id := client.PeerID()
		return id != "" && listed(s1, id)
	})
	first := client.PeerID()

	s1.stop()
	eventually(t, "the client to notice", func() bool { return client.PeerID() == "" })
	select {
	case <-client.Connected():
		t.Fatal("Connected is closed while the tracker is down")
	default:
	}
	s2 := startServer(t, addr, Options{})
	eventually(t, "the re-announce to the new tracker", func() bool {
		id := client.PeerID()
		return id != "" && id != first && listed(s2, id)
	})
	mu.Lock()
	defer mu.Unlock()
	if len(announced) < 2 || announced[0] != first {
		t.Errorf("OnConnect announced as %v, want %s then a new ID", announced, first)
	}
}
