package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
)

// lookupTimeout is how long get keeps asking the tracker for a digest no
// peer holds before it gives up with swarm.ErrNoPeers. Tests shorten it.
var lookupTimeout = 15 * time.Second

// liarGrace is how long a download waits, stalled, for an honest peer
// once every peer that had its missing chunks sent corrupt data, before
// it fails with swarm.ErrLyingPeer. Zero: the engine's default, a minute.
// Tests shorten it.
var liarGrace time.Duration

// errInterrupted means the command was stopped (SIGINT or SIGTERM) before
// it finished.
var errInterrupted = errors.New("interrupted")

// get downloads one file; see its usage.
func get(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("get", flag.ContinueOnError)
	fl.SetOutput(stderr)
	trackerFlag := fl.String("tracker", "", "tracker `URL`: http://host:port (or ws://host:port/ws); a share link names its own, and\n$TABSWARM_TRACKER is the default when it does not")
	token := tokenFlag(fl)
	out := fl.String("o", "", "save to `PATH` (a file, or an existing folder); default: the file's name in the current folder")
	seedAfter := fl.Bool("seed", false, "keep seeding the file once it is complete, until interrupted")
	verbose := fl.Bool("v", false, "log connections and peers")
	fl.Usage = func() {
		fmt.Fprint(stderr, `usage: tabswarm get DIGEST|LINK|FILE.p2t [--tracker URL] [-o PATH] [--seed]

A collection's digest saves its files in a folder: PATH, or the
collection's name in the current folder. No file is written outside it,
nor through a symbolic link.

Downloads a file into PATH.part beside its target, keeping its progress in
PATH.part.json, and renames it into place once every chunk is verified. Run
the same command again after an interruption to resume. It never overwrites
an existing file; a file already there with the same content counts as done.
On success it prints the saved file's path.

flags:
`)
		fl.PrintDefaults()
	}
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "tabswarm get: need exactly one DIGEST, LINK or FILE.p2t")
		fl.Usage()
		return errUsage
	}
	src, err := parseSource(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "tabswarm get:", err)
		return errUsage
	}
	// The token is for the tracker the user named, never for one a link
	// or .p2t names.
	named := cmp.Or(*trackerFlag, getenv("TABSWARM_TRACKER"))
	src.tracker = cmp.Or(*trackerFlag, src.tracker, named)
	if src.tracker == "" {
		fmt.Fprintln(stderr, "tabswarm get: need --tracker URL")
		return errUsage
	}
	tr, err := parseTracker(src.tracker)
	if err != nil {
		fmt.Fprintln(stderr, "tabswarm get:", err)
		return errUsage
	}
	if *token != "" {
		if own, err := parseTracker(named); err == nil && own.ws == tr.ws {
			tr.token = *token
		} else {
			fmt.Fprintf(stderr, "tabswarm get: not sending the token to %s, which the link names: a token goes only to the tracker named by --tracker or TABSWARM_TRACKER\n", tr.page)
		}
	}

	lib := &downloads{Library: filestore.New("."), out: *out, w: stderr}
	defer lib.Close()
	if src.manifest != nil {
		// Claim the target before going online, so that a bad -o fails
		// at once.
		if _, err := lib.Open(ctx, src.manifest); err != nil {
			return err
		}
	}
	return runPeer(ctx, tr, lib, cliLogger(stderr, *verbose), func(ctx context.Context, node *swarm.Node) error {
		m, c := src.manifest, src.collection
		if s, ok := node.File(src.digest); c != nil || !ok || s.State != swarm.StateSeeding {
			gotM, gotC, err := lookup(ctx, node, src.digest, stderr)
			if err != nil {
				return err
			}
			if m == nil && c == nil {
				m, c = gotM, gotC
			}
		}
		var path string
		if c != nil {
			root := collectionRoot(*out, c)
			copies, err := lib.planCollection(c, root)
			if err != nil {
				return err
			}
			if err := node.AddCollection(ctx, c); err != nil {
				return err
			}
			if path, err = followCollection(ctx, node, lib, c, root, copies, newProgress(stderr, c.Name)); err != nil {
				return err
			}
		} else {
			if _, err := node.Add(ctx, m); err != nil {
				return err
			}
			if path, err = follow(ctx, node, lib, m, newProgress(stderr, filepath.Base(targetPath(*out, m)))); err != nil {
				return err
			}
		}
		fmt.Fprintln(stdout, path)
		if *seedAfter {
			fmt.Fprintln(stderr, "seeding; press Ctrl-C to stop")
			<-ctx.Done()
		}
		return nil
	})
}

// source is what get was asked for.
type source struct {
	digest     swarm.Hash
	manifest   *swarm.Manifest   // from a .p2t file
	collection *swarm.Collection // from a collection's .p2t file
	tracker    string            // from a share link
}

// parseSource reads a digest or a share link (swarm.ParseLink: a link's
// origin is the tracker), or else the path of a .p2t manifest file.
func parseSource(arg string) (source, error) {
	if l, err := swarm.ParseLink(arg); err == nil {
		return source{digest: l.Digest, tracker: l.Origin}, nil
	} else if strings.Contains(arg, "://") {
		return source{}, err
	}
	f, err := os.Open(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return source{}, fmt.Errorf("%q is neither a 64-hex-digit digest, a share link, nor a .p2t file", arg)
		}
		return source{}, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, max(swarm.MaxManifestBytes, swarm.MaxCollectionBytes)+1))
	if err != nil {
		return source{}, err
	}
	m, c, err := swarm.ParseP2T(raw, swarm.Hash{})
	if err != nil {
		return source{}, fmt.Errorf("%s: %w", arg, err)
	}
	if c != nil {
		return source{digest: c.Digest, collection: c}, nil
	}
	return source{digest: m.Digest, manifest: m}, nil
}

// lookup asks the tracker what d names until some peer holds it, for at
// most lookupTimeout: a file's manifest or a collection.
func lookup(ctx context.Context, node *swarm.Node, d swarm.Hash, stderr io.Writer) (*swarm.Manifest, *swarm.Collection, error) {
	deadline := time.Now().Add(lookupTimeout)
	for said := false; ; said = true {
		m, c, err := node.Lookup(ctx, d)
		switch {
		case err == nil:
			return m, c, nil
		case ctx.Err() != nil:
			return nil, nil, errInterrupted
		case !errors.Is(err, swarm.ErrNoPeers):
			return nil, nil, err
		case time.Now().After(deadline):
			return nil, nil, fmt.Errorf("%w: the tracker knows no peer holding %s (asked for %s)", swarm.ErrNoPeers, d, lookupTimeout)
		case !said:
			fmt.Fprintf(stderr, "no peer has %s yet; asking again for up to %s\n", d, lookupTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, nil, errInterrupted
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// follow shows m's download until it is complete, then moves it into place
// and returns its path.
func follow(ctx context.Context, node *swarm.Node, lib *downloads, m *swarm.Manifest, p *progress) (string, error) {
	var last swarm.FileStats
	err := watch(ctx, node, p, func() status {
		last, _ = node.File(m.Digest)
		return fileStatus(m, last)
	}, func(ctx context.Context) error { return node.Wait(ctx, m.Digest) })
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("%w with %d of %d chunks saved; run the same command again to resume", errInterrupted, last.Have, last.Chunks)
	case err != nil:
		return "", err
	}
	return lib.Finish(m.Digest)
}

// watch shows the status look returns after each change the node reports
// until wait returns, and returns wait's error, worded for a person but
// with its type kept for the exit code (swarm.ErrQuota for a full disk,
// the file system's own for a denied write).
func watch(ctx context.Context, node *swarm.Node, p *progress, look func() status, wait func(context.Context) error) error {
	changes, unsubscribe := node.Subscribe()
	defer unsubscribe()
	defer p.end()
	waited := make(chan error, 1)
	go func() { waited <- wait(ctx) }()
	for {
		p.update(time.Now(), look())
		select {
		case err := <-waited:
			p.update(time.Now(), look())
			if errors.Is(err, swarm.ErrQuota) {
				return fmt.Errorf("disk full; free some space and run the same command again to resume: %w", err)
			}
			return err
		case <-changes:
		}
	}
}

// downloads is get's Library: the file it fetches goes to the target the
// command line names.
type downloads struct {
	*filestore.Library
	out string    // -o; "" for the file's own name in the current folder
	w   io.Writer // shows the check of a resumed download's chunks

	mu      sync.Mutex
	opened  map[swarm.Hash]swarm.Chunks
	targets map[swarm.Hash]string // a collection's files: where each goes
}

// Open implements swarm.Library. For a target that already exists it
// hashes that file and treats it as done if it is m's content.
func (l *downloads) Open(ctx context.Context, m *swarm.Manifest) (swarm.Chunks, error) {
	l.mu.Lock()
	c := l.opened[m.Digest]
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	target := l.target(m.Digest)
	if target == "" {
		target = targetPath(l.out, m)
	}
	if _, err := os.Stat(target); err == nil {
		have, err := l.Share(ctx, target)
		if err != nil {
			return nil, err
		}
		if have.Digest != m.Digest {
			return nil, fmt.Errorf("%s already exists with other content; move it away or choose another name with -o", target)
		}
	}
	check := newProgress(l.w, filepath.Base(target))
	c, err := l.Download(ctx, m, target, func(done, total int) { check.checking(time.Now(), done, total) })
	check.end()
	if err != nil {
		return nil, fmt.Errorf("saving to %s: %w", target, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened == nil {
		l.opened = make(map[swarm.Hash]swarm.Chunks)
	}
	l.opened[m.Digest] = c
	return c, nil
}

// target is where a collection's file with digest d goes, or "".
func (l *downloads) target(d swarm.Hash) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.targets[d]
}

// targetPath is where m is saved: out, or m's name inside out when out is a
// folder, or m's name in the current folder when out is empty.
func targetPath(out string, m *swarm.Manifest) string {
	name := safeName(m)
	if out == "" {
		return name
	}
	if strings.HasSuffix(out, string(filepath.Separator)) || strings.HasSuffix(out, "/") {
		return filepath.Join(out, name)
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return filepath.Join(out, name)
	}
	return out
}

// safeName is m's name made safe to write (filestore.SafeName), or the
// start of its digest when nothing of it is left.
func safeName(m *swarm.Manifest) string {
	if name := filestore.SafeName(m.Name); name != "" {
		return name
	}
	return m.Digest.String()[:16]
}
