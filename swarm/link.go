package swarm

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Link is what a pasted digest or share link names: the file's digest and,
// for a link, the origin (scheme://host:port) of the tracker whose page it
// points at.
type Link struct {
	Digest Hash
	Origin string // "" for a bare digest
}

// ParseLink finds the digest in what a person pasted or typed, spaces
// around it ignored. It accepts every form the page and the CLI hand out
// or take:
//
//	0123…cdef                          the digest (64 hex characters)
//	http://host:port/#0123…cdef        a share link: the digest after #
//	http://host:port/?d=0123…cdef      the digest in the query
//	http://host:port/…/0123…cdef.p2t   a link to the file's manifest
//
// An error wraps ErrBadDigest.
func ParseLink(text string) (Link, error) {
	text = strings.TrimSpace(text)
	if d, err := ParseDigest(text); err == nil {
		return Link{Digest: d}, nil
	}
	if !strings.Contains(text, "://") {
		return Link{}, fmt.Errorf("%w: want 64 hex characters or a share link, got %q", ErrBadDigest, clip(text))
	}
	u, err := url.Parse(text)
	if err != nil || u.Host == "" {
		return Link{}, fmt.Errorf("%w: %q is not a link", ErrBadDigest, clip(text))
	}
	for _, s := range []string{u.Fragment, u.Query().Get("d"), strings.TrimSuffix(path.Base(u.Path), ".p2t")} {
		if d, err := ParseDigest(s); err == nil {
			return Link{Digest: d, Origin: u.Scheme + "://" + u.Host}, nil
		}
	}
	return Link{}, fmt.Errorf("%w: link %q carries no digest (after #, in ?d= or as NAME.p2t)", ErrBadDigest, clip(text))
}

// ShareLink returns the share link of d at origin, the page's address:
// origin/#DIGEST. ParseLink reads it back.
func ShareLink(origin string, d Hash) string {
	return strings.TrimRight(origin, "/") + "/#" + d.String()
}

// clip shortens text for an error message.
func clip(text string) string {
	if len(text) > 100 {
		return text[:100] + "…"
	}
	return text
}
