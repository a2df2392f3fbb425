package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tabswarm/internal/figure"
)

// Issue 6's swarm benefit: native peers (bin/tabswarm subprocesses), each in
// a network namespace this benchmark makes, on one bridge in a hub
// namespace where the tracker runs. The seeder's uplink is shaped with tc
// tbf; leechers' links are not. Nothing touches the host's own network
// namespace, and every namespace is deleted in cleanup, pass or fail.
const (
	shapedRate   = "40mbit" // tc's spelling of shapedBits
	shapedBits   = 40e6     // bits per second
	shapedSize   = 32 << 20
	shapedSubnet = "10.77.0" // .1 is the tracker on the hub's bridge
	shapedPort   = "8080"
)

// BenchmarkShapedSwarm times one leecher alone, then three leechers
// together, getting a file from a seeder whose uplink is shaped to
// shapedRate; leechers keep seeding (get --seed) until the run ends, as
// open tabs do. Then three leechers again with exchange off: the engine has
// no switch for it (it would need something like a swarm.Options field
// that stops a node serving while it is incomplete), so the benchmark
// blocks leecher-to-leecher traffic with unreachable routes instead. It
// needs root, ip and tc, and make build. Run it once:
//
//	go test -run '^$' -bench ShapedSwarm -benchtime 1x ./e2e
func BenchmarkShapedSwarm(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root for ip netns and tc")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("needs %s: %v", tool, err)
		}
	}
	bin := builtBinary(b)

	removeStaleNamespaces()
	prefix := fmt.Sprintf("tsb%d", os.Getpid())
	hub := prefix + "-hub"
	nodes := []string{prefix + "-seed", prefix + "-l1", prefix + "-l2", prefix + "-l3"}
	b.Cleanup(func() {
		for _, ns := range append([]string{hub}, nodes...) {
			exec.Command("ip", "netns", "del", ns).Run() // may not exist
		}
	})
	ip := func(args ...string) {
		b.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", hub)
	ip("-n", hub, "link", "set", "lo", "up")
	ip("-n", hub, "link", "add", "br0", "type", "bridge")
	ip("-n", hub, "addr", "add", shapedSubnet+".1/24", "dev", "br0")
	ip("-n", hub, "link", "set", "br0", "up")
	for i, ns := range nodes {
		veth := fmt.Sprintf("v%d", i)
		ip("netns", "add", ns)
		ip("-n", ns, "link", "set", "lo", "up")
		ip("-n", hub, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
		ip("-n", hub, "link", "set", veth, "master", "br0", "up")
		ip("-n", ns, "addr", "add", fmt.Sprintf("%s.%d/24", shapedSubnet, i+2), "dev", "eth0")
		ip("-n", ns, "link", "set", "eth0", "up")
	}
	if out, err := exec.Command("ip", "netns", "exec", nodes[0], "tc", "qdisc", "add", "dev", "eth0", "root",
		"tbf", "rate", shapedRate, "burst", "32kb", "latency", "50ms").CombinedOutput(); err != nil {
		b.Fatalf("tc: %v\n%s", err, out)
	}

	trackerURL := "http://" + shapedSubnet + ".1:" + shapedPort
	srv := startNetnsProc(b, hub, b.TempDir(), bin, "serve", "--addr", shapedSubnet+".1:"+shapedPort)
	srv.waitLine(b, "tabswarm is serving", 30*time.Second)

	f := makeFile(b, b.TempDir(), "shaped.bin", shapedSize)
	seeder := startNetnsProc(b, nodes[0], b.TempDir(), bin, "seed", f.path, "--tracker", trackerURL)
	if line := seeder.waitLine(b, f.digest, time.Minute); !strings.HasPrefix(line, f.digest) {
		b.Fatalf("seeder printed %q, want the digest %s", line, f.digest)
	}
	seeder.waitStderr(b, "seeding;", time.Minute)

	one := figure.New(fmt.Sprintf("shaped seeder (%s) %dMiB, one leecher", shapedRate, shapedSize>>20), "s")
	three := figure.New(fmt.Sprintf("shaped seeder (%s) %dMiB, three leechers together", shapedRate, shapedSize>>20), "s")
	apart := figure.New(fmt.Sprintf("shaped seeder (%s) %dMiB, three leechers, exchange blocked", shapedRate, shapedSize>>20), "s")
	for range figure.Runs() {
		one.Add(shapedRun(b, bin, trackerURL, f.digest, nodes[1:2]).Seconds())
	}
	for range figure.Runs() {
		three.Add(shapedRun(b, bin, trackerURL, f.digest, nodes[1:]).Seconds())
	}
	// Exchange off, emulated in the network: each leecher gets an
	// unreachable route to the others, so only the seeder can serve it.
	for i, ns := range nodes[1:] {
		for j := range nodes[1:] {
			if j != i {
				ip("-n", ns, "route", "add", "unreachable", fmt.Sprintf("%s.%d/32", shapedSubnet, j+3))
			}
		}
	}
	for range figure.Runs() {
		apart.Add(shapedRun(b, bin, trackerURL, f.digest, nodes[1:]).Seconds())
	}
	one.Print()
	fmt.Printf("  (the seeder's line rate alone: %.1f s)\n", float64(shapedSize)*8/shapedBits)
	three.Print()
	figure.PrintRatio("three leechers / one leecher time", three.Median(), one.Name(), "<= 1.4")
	apart.Print()
	figure.PrintRatio("three leechers exchange blocked / one leecher time", apart.Median(), one.Name(), "about 3")
}

// removeStaleNamespaces deletes the namespaces of an earlier run of this
// benchmark whose process is gone (a go test -timeout panic skips cleanup):
// tsbPID-*, where /proc/PID does not exist.
func removeStaleNamespaces() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(l, " ")
		pid, _, ok := strings.Cut(strings.TrimPrefix(name, "tsb"), "-")
		if !ok || !strings.HasPrefix(name, "tsb") || strings.Trim(pid, "0123456789") != "" {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); os.IsNotExist(err) {
			exec.Command("ip", "netns", "del", name).Run()
		}
	}
}

// shapedRun starts one get --seed per namespace together and returns the
// time until every one has printed its saved path; then it stops them.
func shapedRun(b *testing.B, bin, trackerURL, digest string, nss []string) time.Duration {
	b.Helper()
	start := time.Now()
	var ps []*subproc
	for _, ns := range nss {
		dir := b.TempDir()
		ps = append(ps, startNetnsProc(b, ns, dir, bin, "get", digest, "--tracker", trackerURL, "--seed", "-o", filepath.Join(dir, "out.bin")))
	}
	for _, p := range ps {
		p.waitLine(b, "out.bin", sizeTimeout(shapedSize, 1e6))
	}
	took := time.Since(start)
	for _, p := range ps {
		p.stop()
	}
	return took
}

// startNetnsProc runs bin args in namespace ns, in dir; it is stopped in
// b's cleanup if not before.
func startNetnsProc(b *testing.B, ns, dir, bin string, args ...string) *subproc {
	b.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Dir = dir
	return startSubproc(b, ns+" "+args[0], cmd, nil)
}
