package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
	"tabswarm/swarm/rtc"
)

// connectTimeout is how long seed and get wait for their first tracker
// connection before giving up with swarm.ErrNoTracker. Tests shorten it.
var connectTimeout = 10 * time.Second

// seed shares files from disk until ctx is done.
func seed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("seed", flag.ContinueOnError)
	fl.SetOutput(stderr)
	trackerFlag := fl.String("tracker", getenv("TABSWARM_TRACKER"), "tracker `URL`: http://host:port (or ws://host:port/ws) (default $TABSWARM_TRACKER)")
	token := tokenFlag(fl)
	verbose := fl.Bool("v", false, "log connections and peers")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: tabswarm seed FILE|DIR... --tracker URL\n\nHashes each file, prints its digest and share link, and serves it\nfrom disk, in place, until interrupted. A folder is shared as one\ncollection: one digest and link for every regular file under it\n(symbolic links are skipped).\n\nflags:")
		fl.PrintDefaults()
	}
	files, err := parseInterspersed(fl, args)
	if err != nil {
		return flagError(err)
	}
	if len(files) == 0 || *trackerFlag == "" {
		fmt.Fprintln(stderr, "tabswarm seed: need at least one FILE or DIR and --tracker URL")
		fl.Usage()
		return errUsage
	}
	tr, err := parseTracker(*trackerFlag)
	tr.token = *token
	if err != nil {
		fmt.Fprintln(stderr, "tabswarm seed:", err)
		return errUsage
	}
	lib := filestore.New(os.TempDir()) // seeding downloads nothing
	defer lib.Close()
	var sets []*swarm.Collection
	for _, path := range files {
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			c, err := shareFolder(ctx, lib, path)
			if err != nil {
				return err
			}
			sets = append(sets, c)
			fmt.Fprintf(stdout, "%s  %s/ (%d files, %s)\n  %s\n", c.Digest, c.Name, len(c.Files), formatBytes(c.Size), tr.link(c.Digest))
			continue
		}
		m, err := lib.Share(ctx, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %s (%s)\n  %s\n", m.Digest, m.Name, formatBytes(m.Size), tr.link(m.Digest))
	}
	err = runPeer(ctx, tr, lib, cliLogger(stderr, *verbose), func(ctx context.Context, node *swarm.Node) error {
		for _, c := range sets {
			if err := node.AddCollection(ctx, c); err != nil {
				return err
			}
		}
		fmt.Fprintln(stderr, "seeding; press Ctrl-C to stop")
		<-ctx.Done()
		return nil
	})
	if errors.Is(err, errInterrupted) {
		return nil // stopping is how a seed ends
	}
	return err
}

// runPeer runs a node on lib against tr, waits for its first tracker
// connection (swarm.ErrNoTracker after connectTimeout), runs body, and stops
// the node once body returns. A ctx done before body starts gives
// errInterrupted.
func runPeer(ctx context.Context, tr trackerAddr, lib swarm.Library, log *slog.Logger, body func(context.Context, *swarm.Node) error) error {
	ctx, cancel := context.WithCancel(ctx)
	node := newNode(tr.ws, tr.token, lib, log)
	ran := make(chan error, 1)
	go func() { ran <- node.Run(ctx) }()
	timeout := connectTimeout
	connected := make(chan error, 1)
	go func() {
		wctx, wcancel := context.WithTimeout(ctx, timeout)
		defer wcancel()
		connected <- node.WaitConnected(wctx)
	}()
	var err error
	select {
	case err = <-ran:
		ran <- err // for the deferred wait below
		if err == nil || ctx.Err() != nil {
			err = errInterrupted
		}
	case err = <-connected:
		switch {
		case err == nil:
			err = body(ctx, node)
		case ctx.Err() != nil:
			err = errInterrupted
		default:
			err = fmt.Errorf("%w: no answer from %s within %s", swarm.ErrNoTracker, tr.ws, timeout)
		}
	}
	cancel()
	<-ran
	return err
}

// newNode returns a native peer on lib that finds peers through the
// tracker at ws (a ws:// URL), named after this machine, and reaches them
// over WebRTC.
func newNode(ws, token string, lib swarm.Library, log *slog.Logger) *swarm.Node {
	conn := rtc.New(rtc.Options{Tracker: ws, Token: token, Logger: log})
	nameNode(conn, log)
	return swarm.NewNode(swarm.Options{Connector: conn, Library: lib, Logger: log, LiarGrace: liarGrace})
}

// trackerAddr is a tracker's signalling endpoint and its page.
type trackerAddr struct {
	ws    string // ws://host:port/ws
	page  string // http://host:port/
	token string // a private tracker's token, from --token or TABSWARM_TOKEN
}

// link returns the share link of digest d: the page with the digest after #.
func (t trackerAddr) link(d swarm.Hash) string { return swarm.ShareLink(t.page, d) }

// parseTracker accepts http(s)://host:port, ws(s)://host:port[/ws], or a
// bare host:port (taken as http), and derives both URLs. The page always
// dials /ws at its own origin, so no other path is accepted.
func parseTracker(raw string) (trackerAddr, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return trackerAddr{}, fmt.Errorf("bad tracker URL %q: want http://host:port", raw)
	}
	var ws, page string
	switch u.Scheme {
	case "http", "ws":
		ws, page = "ws", "http"
	case "https", "wss":
		ws, page = "wss", "https"
	default:
		return trackerAddr{}, fmt.Errorf("bad tracker URL %q: scheme %q, want http, https, ws or wss", raw, u.Scheme)
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", "/ws":
	default:
		return trackerAddr{}, fmt.Errorf("bad tracker URL %q: want no path (or /ws)", raw)
	}
	return trackerAddr{ws: ws + "://" + u.Host + "/ws", page: page + "://" + u.Host + "/"}, nil
}

// parseInterspersed parses fl from args, letting flags and positional
// arguments mix ("seed a.bin --tracker URL b.bin"); after "--" everything
// is positional. It returns the positional arguments in order.
func parseInterspersed(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		rest := fl.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagError turns a flag parsing error into the command's result: -h is
// not an error, anything else is errUsage (the flag package has said why).
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return errUsage
}

// cliLogger logs warnings and errors to w, or everything when verbose.
func cliLogger(w io.Writer, verbose bool) *slog.Logger {
	lvl := slog.LevelWarn
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// tokenFlag defines --token, which defaults to $TABSWARM_TOKEN. The token
// goes only to the tracker named by --tracker or $TABSWARM_TRACKER, in an
// Authorization header.
func tokenFlag(fl *flag.FlagSet) *string {
	return fl.String("token", getenv("TABSWARM_TOKEN"), "a private tracker's access `token` (default $TABSWARM_TOKEN), sent only to the tracker\nnamed by --tracker or $TABSWARM_TRACKER")
}

// startSharing checks that dir can be read, then seeds its files in the
// background through the tracker listening at addr (see shareDir). stop
// ends the seeding and waits for it.
func startSharing(ctx context.Context, dir string, addr net.Addr, token string, log *slog.Logger) (stop func(), err error) {
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("--share: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := shareDir(ctx, dir, localTrackerURL(addr), token, log); err != nil && ctx.Err() == nil {
			log.Error("sharing stopped", "dir", dir, "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// shareDir hashes every regular file directly in dir (not hidden files,
// nor the .part files of downloads) and seeds them through the tracker at
// trackerURL until ctx is done. A file that cannot be read is logged and
// skipped.
func shareDir(ctx context.Context, dir, trackerURL, token string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	lib := filestore.New(dir)
	defer lib.Close()
	node := newNode(trackerURL, token, lib, log)
	ran := make(chan error, 1)
	go func() { ran <- node.Run(ctx) }()
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".part.json") {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		m, err := lib.Share(ctx, path)
		if err == nil {
			_, err = node.Add(ctx, m)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("not sharing", "file", path, "err", err)
			continue
		}
		log.Info("sharing", "file", name, "size", m.Size, "digest", m.Digest.String())
	}
	return <-ran
}

// localTrackerURL is the signalling URL of a tracker listening at addr, as
// seen from the same machine.
func localTrackerURL(addr net.Addr) string {
	host, port := "127.0.0.1", "0"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	return "ws://" + net.JoinHostPort(host, port) + "/ws"
}
