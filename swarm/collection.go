package swarm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CollectionVersion is the .p2t format version of a collection. A file's
// manifest keeps FormatVersion, so its digest never changes; a reader that
// knows only FormatVersion refuses a collection.
const CollectionVersion = 2

// Limits on what a collection may describe, bounding the memory a peer or
// the tracker spends on one from an untrusted source.
const (
	MaxCollectionFiles = 1024 // entries in one collection
	MaxPathLen         = 1024 // bytes of an entry's path
)

// MaxCollectionBytes bounds a collection's JSON: MaxCollectionFiles entries
// with the longest paths (escaped), plus room for the other fields.
const MaxCollectionBytes = MaxCollectionFiles*(6*MaxPathLen+2*sha256.Size+64) + 4096

// Entry is one file of a collection: where it goes and which file it is.
// Each file is its own swarm; its manifest comes from the tracker by Digest.
type Entry struct {
	// Path is slash-separated and relative: no leading slash, no empty,
	// "." or ".." element, no backslash, no control characters and no
	// bidirectional controls (see CheckPath).
	Path   string `json:"path"`
	Digest Hash   `json:"digest"`
	Size   int64  `json:"size"`
}

// Collection describes a set of files shared as one: one digest and one
// link for the set. Its Digest is fixed by the entries alone (paths, sizes
// and file digests, in path order), not by Name.
type Collection struct {
	Version int     `json:"version"`
	Digest  Hash    `json:"digest"`
	Name    string  `json:"name"`
	Size    int64   `json:"size"` // the files' sizes added up
	Files   []Entry `json:"files"`
}

// NewCollection returns the collection of files under name. It sorts files
// by path and checks them like Validate.
func NewCollection(name string, files []Entry) (*Collection, error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	c := &Collection{Version: CollectionVersion, Name: name, Files: files, Digest: CollectionDigest(files)}
	for _, e := range files {
		c.Size += e.Size
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// CollectionDigest returns the SHA-256 of the canonical encoding of files,
// which must be sorted by path: the magic "tabswarm\x00", the version byte
// CollectionVersion (so it never equals a file's digest), the entry count,
// then per entry the path's length and bytes, the size and the file digest,
// integers big-endian.
func CollectionDigest(files []Entry) Hash {
	h := sha256.New()
	var buf [8]byte
	h.Write([]byte("tabswarm\x00"))
	h.Write([]byte{CollectionVersion})
	binary.BigEndian.PutUint32(buf[:4], uint32(len(files)))
	h.Write(buf[:4])
	for _, e := range files {
		binary.BigEndian.PutUint32(buf[:4], uint32(len(e.Path)))
		h.Write(buf[:4])
		h.Write([]byte(e.Path))
		binary.BigEndian.PutUint64(buf[:], uint64(e.Size))
		h.Write(buf[:])
		h.Write(e.Digest[:])
	}
	var d Hash
	h.Sum(d[:0])
	return d
}

// Validate checks that the collection is well formed (safe paths in order,
// no path twice, none a folder of another, sizes that add up) and that its
// entries hash to its Digest.
func (c *Collection) Validate() error {
	switch {
	case c.Version != CollectionVersion:
		return fmt.Errorf("%w: collection version %d, want %d", ErrBadManifest, c.Version, CollectionVersion)
	case len(c.Files) == 0 || len(c.Files) > MaxCollectionFiles:
		return fmt.Errorf("%w: %d files; a collection has 1 to %d", ErrBadManifest, len(c.Files), MaxCollectionFiles)
	case len(c.Name) > MaxNameLen || !utf8.ValidString(c.Name):
		return fmt.Errorf("%w: name is not UTF-8 of at most %d bytes", ErrBadManifest, MaxNameLen)
	}
	var total int64
	folders := make(map[string]bool)
	for i, e := range c.Files {
		if err := CheckPath(e.Path); err != nil {
			return fmt.Errorf("%w: %w", ErrBadManifest, err)
		}
		if i > 0 && c.Files[i-1].Path >= e.Path {
			return fmt.Errorf("%w: paths out of order or twice: %q after %q", ErrBadManifest, e.Path, c.Files[i-1].Path)
		}
		if e.Size < 0 || e.Size > MaxChunks*MaxChunkSize {
			return fmt.Errorf("%w: %q has size %d", ErrBadManifest, e.Path, e.Size)
		}
		total += e.Size
		for j := strings.IndexByte(e.Path, '/'); j >= 0; j = next(e.Path, j) {
			folders[e.Path[:j]] = true
		}
	}
	for _, e := range c.Files {
		if folders[e.Path] {
			return fmt.Errorf("%w: %q is both a file and a folder", ErrBadManifest, e.Path)
		}
	}
	if total != c.Size {
		return fmt.Errorf("%w: sizes add up to %d, not %d", ErrBadManifest, total, c.Size)
	}
	if CollectionDigest(c.Files) != c.Digest {
		return fmt.Errorf("%w: entries do not hash to %s", ErrBadManifest, c.Digest)
	}
	return nil
}

// BadPathRune reports whether CheckPath refuses r anywhere in a path: a
// control character, a backslash or a bidirectional control. Whatever
// names entries from outside input (a browser's file paths) replaces such
// characters first.
func BadPathRune(r rune) bool { return runeProblem(r) != "" }

// runeProblem says why CheckPath refuses r, or "" if it does not.
func runeProblem(r rune) string {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return "control character"
	case r == '\\':
		return "backslash"
	case unicode.Is(unicode.Bidi_Control, r):
		return "a bidirectional control character (it can disguise a name, as \"gpj.exe\" shown as \"exe.jpg\")"
	}
	return ""
}

// next returns the index of the '/' after index j in p, or -1.
func next(p string, j int) int {
	k := strings.IndexByte(p[j+1:], '/')
	if k < 0 {
		return -1
	}
	return j + 1 + k
}

// CheckPath reports whether p is a safe relative path for a collection
// entry: slash-separated, at most MaxPathLen bytes of UTF-8, no leading or
// trailing slash, no empty, "." or ".." element, no element longer than
// MaxNameLen, no backslash, no control characters and no bidirectional
// controls (U+202E and its kin). Its error wraps
// ErrBadPath.
func CheckPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrBadPath, p, why) }
	switch {
	case p == "":
		return bad("empty")
	case len(p) > MaxPathLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxPathLen))
	case !utf8.ValidString(p):
		return bad("not UTF-8")
	case strings.HasPrefix(p, "/"):
		return bad("absolute")
	}
	for _, r := range p {
		if why := runeProblem(r); why != "" {
			return bad(why)
		}
	}
	for _, el := range strings.Split(p, "/") {
		switch {
		case el == "":
			return bad("empty element")
		case el == "." || el == "..":
			return bad(`"." or ".." element`)
		case len(el) > MaxNameLen:
			return bad(fmt.Sprintf("an element longer than %d bytes", MaxNameLen))
		}
	}
	return nil
}

// ParseCollection decodes a collection's JSON and validates it. When want
// is not the zero Hash, the collection must also carry that digest.
func ParseCollection(data []byte, want Hash) (*Collection, error) {
	if len(data) > MaxCollectionBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadManifest, len(data), MaxCollectionBytes)
	}
	if v, err := p2tVersion(data); err != nil {
		return nil, err
	} else if v != CollectionVersion {
		return nil, fmt.Errorf("%w: format version %d is not a collection's (%d)", ErrBadManifest, v, CollectionVersion)
	}
	var c Collection
	if err := strictDecode(data, &c); err != nil {
		return nil, err
	}
	if want != (Hash{}) && c.Digest != want {
		return nil, fmt.Errorf("%w: collection is for %s, not %s", ErrBadManifest, c.Digest, want)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ParseP2T decodes a .p2t of either kind: exactly one of the results is
// non-nil on success. A version this package does not know is refused with
// a message that says so.
func ParseP2T(data []byte, want Hash) (*Manifest, *Collection, error) {
	v, err := p2tVersion(data)
	if err != nil {
		return nil, nil, err
	}
	if v == CollectionVersion {
		c, err := ParseCollection(data, want)
		return nil, c, err
	}
	m, err := parseManifest(data, want) // its version just read
	return m, nil, err
}

// p2tVersion reads a .p2t's format version and refuses one newer than this
// package knows.
func p2tVersion(data []byte) (int, error) {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	if v.Version > CollectionVersion {
		return 0, fmt.Errorf("%w: format version %d is newer than this tabswarm reads (up to %d); update tabswarm", ErrBadManifest, v.Version, CollectionVersion)
	}
	return v.Version, nil
}

// strictDecode decodes one JSON value into v, refusing unknown fields.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	return nil
}
