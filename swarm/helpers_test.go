package swarm

import (
	"context"
	"io"
	"log/slog"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// nopTransport accepts and drops everything.
type nopTransport struct{}

func (nopTransport) Send(context.Context, []byte) error { return nil }
func (nopTransport) Recv(ctx context.Context) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (nopTransport) Close() error { return nil }
