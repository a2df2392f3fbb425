package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOpenURLs(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want []string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, []string{"http://127.0.0.1:8080", "http://localhost:8080"}},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9}, []string{"http://[::1]:9", "http://localhost:9"}},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 80}, []string{"http://192.168.1.5:80"}},
	} {
		got, err := openURLs(c.addr)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("openURLs(%v) = %v, %v; want %v", c.addr, got, err, c.want)
		}
	}
	// Unspecified: the machine's LAN addresses (whatever they are), then
	// localhost, all on the listener's port.
	got, _ := openURLs(&net.TCPAddr{IP: net.IPv4zero, Port: 4242})
	if len(got) == 0 || got[len(got)-1] != "http://localhost:4242" {
		t.Fatalf("openURLs(0.0.0.0:4242) = %v, want localhost last", got)
	}
	for _, u := range got {
		if !strings.HasSuffix(u, ":4242") || strings.Contains(u, "127.0.0.1") {
			t.Errorf("URL %q: want a non-loopback address on port 4242", u)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), nil, &out, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "serve") {
		t.Errorf("no args: %v, %q", err, errOut.String())
	}
	errOut.Reset()
	if err := run(context.Background(), []string{"frobnicate"}, &out, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "unknown command") {
		t.Errorf("unknown command: %v, %q", err, errOut.String())
	}
	if err := run(context.Background(), []string{"serve", "--nope"}, &out, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("bad flag: %v", err)
	}
	if err := run(context.Background(), []string{"help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "usage") {
		t.Errorf("help: %v, %q", err, out.String())
	}
}

func TestServeLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, &out, &errOut)
	}()
	for !strings.Contains(out.String(), "http://localhost:") {
		select {
		case err := <-done:
			t.Fatalf("serve returned early: %v; stderr %s", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if !strings.Contains(out.String(), "http://127.0.0.1:") {
		t.Errorf("output %q lacks the loopback URL", out.String())
	}
}
