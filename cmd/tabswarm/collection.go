package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tabswarm/swarm"
	"tabswarm/swarm/filestore"
)

// shareFolder hashes every regular file under dir (symbolic links and
// other special files are skipped, never followed) and returns them as one
// collection named after dir, with the manifests of its files.
func shareFolder(ctx context.Context, lib *filestore.Library, dir string) (*swarm.Collection, error) {
	var entries []swarm.Entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		m, err := lib.Share(ctx, path)
		if err != nil {
			return err
		}
		entries = append(entries, swarm.Entry{Path: filepath.ToSlash(rel), Digest: m.Digest, Size: m.Size})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: no files to share", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c, err := swarm.NewCollection(filepath.Base(abs), entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return c, nil
}

// collectionRoot is the folder a collection is saved in: out, or the
// collection's name (cleaned like a file name) in the current folder.
func collectionRoot(out string, c *swarm.Collection) string {
	if out != "" {
		return out
	}
	return safeName(&swarm.Manifest{Name: c.Name, Digest: c.Digest})
}

// memberTarget returns where entry e of a collection saved in root goes,
// creating its folders. The path never leads outside root: it is checked
// again here, and every folder on the way must be a real folder, not a
// symbolic link.
func memberTarget(root string, e swarm.Entry) (string, error) {
	if err := swarm.CheckPath(e.Path); err != nil {
		return "", err
	}
	rel := filepath.FromSlash(e.Path)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: %q is not a local path here", swarm.ErrBadPath, e.Path)
	}
	dir := root
	for _, el := range strings.Split(filepath.Dir(rel), string(filepath.Separator)) {
		if el == "." {
			continue
		}
		if err := mkdirNoFollow(dir); err != nil {
			return "", err
		}
		dir = filepath.Join(dir, el)
	}
	if err := mkdirNoFollow(dir); err != nil {
		return "", err
	}
	target := filepath.Join(root, rel)
	if fi, err := os.Lstat(target); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%s is a symbolic link; not writing through it", target)
	}
	return target, nil
}

// mkdirNoFollow makes dir unless it exists as a real folder; a symbolic
// link or a file in its place is an error.
func mkdirNoFollow(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.Mkdir(dir, 0o755)
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; not saving through it", dir)
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a folder", dir)
	}
	return nil
}

// planCollection sets the target of every file of c saved in root, and
// returns the entries whose file is also another entry's (same digest):
// they are copied from that one once it is complete.
func (l *downloads) planCollection(c *swarm.Collection, root string) (copies []swarm.Entry, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.targets == nil {
		l.targets = make(map[swarm.Hash]string)
	}
	for _, e := range c.Files {
		target, err := memberTarget(root, e)
		if err != nil {
			return nil, err
		}
		if _, dup := l.targets[e.Digest]; dup {
			copies = append(copies, e)
			continue
		}
		l.targets[e.Digest] = target
	}
	return copies, nil
}

// followCollection shows c's download until every file is complete, moves
// each into place, writes the duplicates, and returns the folder.
func followCollection(ctx context.Context, node *swarm.Node, lib *downloads, c *swarm.Collection, root string, copies []swarm.Entry, p *progress) (string, error) {
	err := watch(ctx, node, p, func() status {
		cs, _ := node.Collection(c.Digest)
		st := collectionStatus(node, c)
		st.state = cs.State
		return st
	}, func(ctx context.Context) error { return waitCollection(ctx, node, c) })
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("%w; run the same command again to resume", errInterrupted)
	case err != nil:
		return "", err
	}
	return root, finishCollection(ctx, lib, c, root, copies)
}

// waitCollection waits until every file of c is complete, and returns the
// error of the first that failed, with its type.
func waitCollection(ctx context.Context, node *swarm.Node, c *swarm.Collection) error {
	changes, unsubscribe := node.Subscribe()
	defer unsubscribe()
	for {
		cs, ok := node.Collection(c.Digest)
		switch {
		case !ok:
			return fmt.Errorf("collection %s: %w", c.Digest, swarm.ErrNotFound)
		case cs.State == swarm.StateSeeding:
			return nil
		case cs.State == swarm.StateError:
			for _, e := range c.Files {
				if err := node.Err(e.Digest); err != nil {
					return fmt.Errorf("%s: %w", e.Path, err)
				}
			}
			return errors.New(cs.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changes:
		}
	}
}

// collectionStatus sums the status of c's files, each distinct file once.
func collectionStatus(node *swarm.Node, c *swarm.Collection) status {
	var st status
	peers := map[string]bool{}
	seen := map[swarm.Hash]bool{}
	for _, e := range c.Files {
		if seen[e.Digest] {
			continue
		}
		seen[e.Digest] = true
		st.size += e.Size
		s, ok := node.File(e.Digest)
		m := node.Manifest(e.Digest)
		if !ok || m == nil {
			continue
		}
		fs := fileStatus(m, s)
		st.done += fs.done
		st.rate += fs.rate
		for _, ps := range s.Peers {
			if ps.Connected {
				peers[ps.ID] = true
			}
		}
	}
	st.peers = len(peers)
	return st
}

// finishCollection moves every file of c into place and writes each
// duplicate entry as a copy of its twin.
func finishCollection(ctx context.Context, lib *downloads, c *swarm.Collection, root string, copies []swarm.Entry) error {
	for _, e := range c.Files {
		if _, err := lib.Finish(e.Digest); err != nil && !errors.Is(err, swarm.ErrNotFound) {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
	}
	for _, e := range copies {
		if err := copyTwin(ctx, lib, root, e); err != nil {
			return err
		}
	}
	return nil
}

// copyTwin writes entry e (under root) as a copy of the saved file with
// the same digest, never through a symbolic link; a file already there
// with that content counts as done, one with other content is an error.
func copyTwin(ctx context.Context, lib *downloads, root string, e swarm.Entry) error {
	to, err := memberTarget(root, e)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(to); err == nil {
		have, err := lib.Share(ctx, to)
		if err != nil {
			return err
		}
		if have.Digest != e.Digest {
			return fmt.Errorf("%s already exists with other content; move it away or choose another folder with -o", to)
		}
		return nil
	}
	src, err := os.Open(lib.target(e.Digest))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	return dst.Close()
}
