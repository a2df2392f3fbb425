package natsbus

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"tabswarm/tracker"
)

// benchNodeEnv, set to the routes (comma-separated, maybe none), makes the
// test binary a cluster node of its own process, so that a benchmark can
// read each tracker's CPU time apart from its clients'.
const benchNodeEnv = "NATSBUS_BENCH_NODE_ROUTES"

// benchNodeMain runs one node on loopback with the message rate caps
// lifted, prints "http=ADDR cluster=ADDR" and serves until stdin closes.
func benchNodeMain() int {
	var routes []string
	if r := os.Getenv(benchNodeEnv); r != "-" {
		routes = strings.Split(r, ",")
	}
	ctx := context.Background()
	bus, err := Start(ctx, Options{ClusterListen: "127.0.0.1:0", Routes: routes, Token: testToken})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer bus.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tr := tracker.New(tracker.Options{
		Bus: bus, App: fstest.MapFS{"index.html": {}},
		MessageRate: 1e9, MessageBurst: 1e9, MaxConnsPerIP: 1e6, MaxPendingOffers: 1e6,
	})
	sctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, os.Stdin) // until the parent closes it or dies
		cancel()
	}()
	fmt.Printf("http=%s cluster=%s\n", ln.Addr(), bus.ClusterAddr())
	if err := tr.Serve(sctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// procNode is a benchmark node running in a child process.
type procNode struct {
	base    string // http://127.0.0.1:port
	cluster string // its route address
	cmd     *exec.Cmd
}

// startProcNode starts a node process routed to routes.
func startProcNode(b testing.TB, routes ...string) *procNode {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	env := "-"
	if len(routes) > 0 {
		env = strings.Join(routes, ",")
	}
	cmd.Env = append(os.Environ(), benchNodeEnv+"="+env)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("bench node: %v", err)
	}
	f := strings.Fields(line) // http=ADDR cluster=ADDR
	if len(f) != 2 || !strings.HasPrefix(f[0], "http=") || !strings.HasPrefix(f[1], "cluster=") {
		b.Fatalf("bench node said %q", line)
	}
	httpAddr, clusterAddr := strings.TrimPrefix(f[0], "http="), strings.TrimPrefix(f[1], "cluster=")
	return &procNode{base: "http://" + httpAddr, cluster: clusterAddr, cmd: cmd}
}

// cpu returns the node process's CPU time so far, user and system, from
// /proc (clock ticks of 10ms).
func (n *procNode) cpu(b testing.TB) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
