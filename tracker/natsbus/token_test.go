package natsbus

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// logLines is a slog.Handler that passes every message on a channel.
type logLines chan string

func (l logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l logLines) WithGroup(string) slog.Handler            { return l }
func (l logLines) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default: // the test has what it needs
	}
	return nil
}

// TestRouteNeedsToken: a node with another token routes to a node of the
// cluster, and is refused: the route fails authentication, and a question
// from it reaches no other node.
func TestRouteNeedsToken(t *testing.T) {
	lines := make(logLines, 256)
	first := startNode(t, Options{ClusterListen: "127.0.0.1:0", Token: testToken, Logger: slog.New(lines)})
	intruder := startNode(t, Options{
		ClusterListen: "127.0.0.1:0",
		Routes:        []string{"nats-route://" + first.bus.ClusterAddr().String()},
		Token:         "another-token",
	})
	deadline := time.After(20 * time.Second)
	for refused := false; !refused; {
		select {
		case l := <-lines:
			refused = strings.Contains(strings.ToLower(l), "authentication error")
		case <-deadline:
			t.Fatal("the first node logged no refused route in 20s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if replies, _ := intruder.bus.AskAll(ctx, nil); len(replies) != 0 {
		t.Fatalf("the intruder got %d answers", len(replies))
	}
	if _, err := intruder.bus.Relay(ctx, first.bus.NodeID(), []byte("{}")); err == nil {
		t.Fatal("the intruder relayed to the first node")
	}
}

// TestClientNeedsToken: joining an external NATS with a wrong token fails.
func TestClientNeedsToken(t *testing.T) {
	url := startNATSServer(t, 16<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{URL: url, Token: "wrong"})
	if err == nil {
		b.Close()
		t.Fatal("Start with a wrong token succeeded")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("Start with a wrong token: %v, want an authorization error", err)
	}
}
