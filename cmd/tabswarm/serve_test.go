package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tabswarm/internal/testpki"
	"tabswarm/signaling"
)

// startServe runs `tabswarm serve args...` until the test ends and returns
// the first loopback URL it prints.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	re := regexp.MustCompile(`https?://127\.0\.0\.1:\d+`)
	for {
		if u := re.FindString(out.String()); u != "" {
			return u
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve returned early: %v; stderr %s", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestServeTLS(t *testing.T) {
	ca := testpki.NewCA(t, "tabswarm test")
	certFile, keyFile := ca.Issue("tracker")
	base := startServe(t, "--addr", "127.0.0.1:0", "--log-level", "warn", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("printed %s, want an https URL", base)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("/healthz over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(base, "https")+"/ws", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_, b, err := ws.Read(ctx)
	var m signaling.Message
	if err != nil || json.Unmarshal(b, &m) != nil || m.Type != signaling.TypeWelcome {
		t.Fatalf("welcome over wss: %s %v", b, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// Plain HTTP to the TLS port does not get the app.
	if resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the TLS port")
		}
	}
}

// TestServeConfig sets flags both ways: environment and command line, the
// command line winning, and reads them back from /api/config and the
// token check.
func TestServeConfig(t *testing.T) {
	env := map[string]string{
		"TABSWARM_ADDR":       "127.0.0.1:0",
		"TABSWARM_LOG_LEVEL":  "warn",
		"TABSWARM_TOKEN":      "from-env",
		"TABSWARM_ICE_SERVER": "stun:env.example:3478,u:p@turn:env.example:3478",
	}
	getenv = func(k string) string { return env[k] }
	t.Cleanup(func() { getenv = os.Getenv })
	base := startServe(t, "--ice-server", "stun:flag.example")

	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.Bytes()
	}
	if status, _ := get("/api/config", ""); status != http.StatusUnauthorized {
		t.Errorf("/api/config without the env token: %d", status)
	}
	status, body := get("/api/config", "from-env")
	var cfg struct {
		ICEServers []struct {
			URLs []string `json:"urls"`
		} `json:"ice_servers"`
		Private bool `json:"private"`
	}
	if err := json.Unmarshal(body, &cfg); status != http.StatusOK || err != nil || !cfg.Private {
		t.Fatalf("/api/config: %d %s", status, body)
	}
	if len(cfg.ICEServers) != 1 || !slices.Equal(cfg.ICEServers[0].URLs, []string{"stun:flag.example"}) {
		t.Errorf("ICE servers %s: want the command line's only", body)
	}
}

func TestServeHelpAndBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, &out, &errOut); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"--addr", "--token", "--allow-origin", "--tls-cert", "--tls-key", "--ice-server", "--log-level", "--max-conns-per-ip",
		"--cluster-listen", "--cluster-routes", "--cluster-name", "--cluster-token", "--nats-url", "TABSWARM_CLUSTER_TOKEN",
		"--cluster-tls-cert", "--cluster-tls-key", "--cluster-tls-ca", "TABSWARM_CLUSTER_TLS_CA",
		"TABSWARM_ADDR", "TABSWARM_TOKEN", "TABSWARM_ALLOW_ORIGIN", "TABSWARM_TLS_CERT", "TABSWARM_TLS_KEY", "TABSWARM_ICE_SERVER", "TABSWARM_LOG_LEVEL", "/stats", "/metrics"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for _, args := range [][]string{
		{"--tls-cert", "x.pem"},
		{"--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"},
		{"--ice-server", "http://x"},
		{"--ice-server", "turn:x"},
		{"--allow-origin", "*"},
		{"--allow-origin", "[bad"},
		{"--log-level", "loud"},
		{"--max-conns-per-ip", "0"},
		{"--cluster-listen", "127.0.0.1:0"}, // no cluster token
		{"--cluster-routes", "nats-route://127.0.0.1:1", "--cluster-token", "t"},
		{"--nats-url", "nats://127.0.0.1:1", "--cluster-listen", "127.0.0.1:0", "--cluster-token", "t"},
		{"--cluster-tls-ca", "ca.pem"}, // no cluster
		{"--cluster-listen", "127.0.0.1:0", "--cluster-token", "t", "--cluster-tls-cert", "n.pem"},
		{"--cluster-listen", "127.0.0.1:0", "--cluster-token", "t", "--cluster-tls-cert", "n.pem", "--cluster-tls-key", "k.pem"},
		{"extra"},
	} {
		errOut.Reset()
		if err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &out, &errOut); !errors.Is(err, errUsage) || errOut.Len() == 0 {
			t.Errorf("serve %v: %v, stderr %q; want a usage error", args, err, errOut.String())
		}
	}
	getenv = func(k string) string {
		if k == "TABSWARM_MAX_PEERS" {
			return "many"
		}
		return ""
	}
	defer func() { getenv = os.Getenv }()
	errOut.Reset()
	if err := run(context.Background(), []string{"serve"}, &out, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "TABSWARM_MAX_PEERS") {
		t.Errorf("bad env: %v, %q", err, errOut.String())
	}
}

func TestListFlag(t *testing.T) {
	l := &listFlag{split: true}
	l.Set("a, b")
	l.Set("c")
	if !slices.Equal(l.vals, []string{"a", "b", "c"}) {
		t.Errorf("%v", l.vals)
	}
}
