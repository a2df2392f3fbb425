package swarm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// FormatVersion is the manifest and digest format this package writes and
// accepts.
const FormatVersion = 1

// Limits on what a manifest may describe. They bound the memory a peer or the
// tracker spends on one manifest from an untrusted source.
const (
	MinChunkSize = 256 << 10 // smallest chunk, used for every file up to 256 MiB
	MaxChunkSize = 16 << 20  // largest chunk
	TargetChunks = 1024      // chunk size grows until a file has at most this many chunks
	MaxChunks    = 1 << 16   // a manifest never lists more chunks than this
	// MaxFileSize is the largest file a manifest may describe: MaxChunks
	// chunks of MaxChunkSize (1 TiB).
	MaxFileSize = MaxChunks * MaxChunkSize
	MaxNameLen  = 255 // bytes of a file name
	MaxTypeLen  = 127 // bytes of a media type
)

// ChunkSize returns the chunk size for a file of the given size: the smallest
// power of two, at least MinChunkSize, that cuts the file into at most
// TargetChunks chunks, capped at MaxChunkSize.
func ChunkSize(size int64) int64 {
	cs := int64(MinChunkSize)
	for cs < MaxChunkSize && (size+cs-1)/cs > TargetChunks {
		cs <<= 1
	}
	return cs
}

// Hash is the SHA-256 of a chunk or of a manifest's canonical encoding.
type Hash [sha256.Size]byte

// String returns the hash as 64 lowercase hex characters.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes the hash as lowercase hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes 64 hex characters.
func (h *Hash) UnmarshalText(b []byte) error {
	d, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*h = d
	return nil
}

// ParseDigest parses 64 hex characters (either case) into a Hash.
func ParseDigest(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("%w: want 64 hex characters, got %d characters", ErrBadDigest, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(strings.ToLower(s))); err != nil {
		return h, fmt.Errorf("%w: not hex", ErrBadDigest)
	}
	return h, nil
}

// Manifest describes one file: the "p2t" file of the original design. Its
// Digest is fixed by the content alone (size, chunk size and chunk hashes),
// so the same bytes shared under two names join one swarm.
type Manifest struct {
	Version   int    `json:"version"`
	Digest    Hash   `json:"digest"`
	Name      string `json:"name"`
	Type      string `json:"type,omitempty"`
	Size      int64  `json:"size"`
	ChunkSize int64  `json:"chunk_size"`
	Chunks    []Hash `json:"chunks"`
}

// NumChunks returns how many chunks the file has.
func (m *Manifest) NumChunks() int { return len(m.Chunks) }

// ChunkLen returns the length in bytes of chunk i; every chunk but the last
// is ChunkSize long.
func (m *Manifest) ChunkLen(i int) int {
	if i == len(m.Chunks)-1 {
		return int(m.Size - int64(i)*m.ChunkSize)
	}
	return int(m.ChunkSize)
}

// ComputeDigest returns the SHA-256 of the canonical encoding of the format
// version, file size, chunk size and chunk hashes. Name and media type are
// not part of it.
func ComputeDigest(size, chunkSize int64, chunks []Hash) Hash {
	h := sha256.New()
	var hdr [len("tabswarm\x00") + 1 + 8 + 8 + 4]byte
	n := copy(hdr[:], "tabswarm\x00")
	hdr[n] = FormatVersion
	binary.BigEndian.PutUint64(hdr[n+1:], uint64(size))
	binary.BigEndian.PutUint64(hdr[n+9:], uint64(chunkSize))
	binary.BigEndian.PutUint32(hdr[n+17:], uint32(len(chunks)))
	h.Write(hdr[:])
	for i := range chunks {
		h.Write(chunks[i][:])
	}
	var d Hash
	h.Sum(d[:0])
	return d
}

// Validate checks that the manifest is well formed and that its chunk hashes
// hash to its Digest. A manifest that passes can be trusted by anyone who
// trusts the digest, whoever sent it.
func (m *Manifest) Validate() error {
	switch {
	case m.Version != FormatVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrBadManifest, m.Version, FormatVersion)
	case m.Size < 0 || m.Size > MaxFileSize:
		return fmt.Errorf("%w: size %d, want 0 to %d", ErrBadManifest, m.Size, int64(MaxFileSize))
	case m.ChunkSize != ChunkSize(m.Size):
		return fmt.Errorf("%w: chunk size %d, want %d for %d bytes", ErrBadManifest, m.ChunkSize, ChunkSize(m.Size), m.Size)
	case int64(len(m.Chunks)) != (m.Size+m.ChunkSize-1)/m.ChunkSize:
		return fmt.Errorf("%w: %d chunk hashes for %d bytes", ErrBadManifest, len(m.Chunks), m.Size)
	case len(m.Name) > MaxNameLen || !utf8.ValidString(m.Name):
		return fmt.Errorf("%w: name is not UTF-8 of at most %d bytes", ErrBadManifest, MaxNameLen)
	case len(m.Type) > MaxTypeLen || !utf8.ValidString(m.Type):
		return fmt.Errorf("%w: media type is not UTF-8 of at most %d bytes", ErrBadManifest, MaxTypeLen)
	}
	if ComputeDigest(m.Size, m.ChunkSize, m.Chunks) != m.Digest {
		return fmt.Errorf("%w: chunk hashes do not hash to %s", ErrBadManifest, m.Digest)
	}
	return nil
}

// ParseManifest decodes a JSON manifest and validates it. When want is not
// the zero Hash, the manifest must also carry that digest.
func ParseManifest(data []byte, want Hash) (*Manifest, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadManifest, len(data), MaxManifestBytes)
	}
	switch v, err := p2tVersion(data); {
	case err != nil:
		return nil, err
	case v == CollectionVersion:
		return nil, fmt.Errorf("%w: %w: this .p2t is a collection of files (format version %d), not one file's manifest", ErrBadManifest, ErrCollection, v)
	}
	return parseManifest(data, want)
}

// parseManifest is ParseManifest for data whose version was read.
func parseManifest(data []byte, want Hash) (*Manifest, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadManifest, len(data), MaxManifestBytes)
	}
	// The same fields, the chunk hashes read by hexHashes.
	var wire struct {
		Manifest
		Chunks hexHashes `json:"chunks"`
	}
	if err := strictDecode(data, &wire); err != nil {
		return nil, err
	}
	m := wire.Manifest
	m.Chunks = wire.Chunks
	if want != (Hash{}) && m.Digest != want {
		return nil, fmt.Errorf("%w: manifest is for %s, not %s", ErrBadManifest, m.Digest, want)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// hexHashes decodes a manifest's JSON list of hex chunk hashes in one pass
// over its bytes. encoding/json decodes a Hash through reflection and
// UnmarshalText, one element at a time, and in a browser tab that work
// for a manifest's 1,024 hashes is hot enough for V8 to compile
// encoding/json's decoder afresh in every new tab (README, Performance).
// Anything but a list of plain strings (null, escapes, other values) goes
// to encoding/json.
type hexHashes []Hash

// UnmarshalJSON implements json.Unmarshaler. b is one valid JSON value.
func (h *hexHashes) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '[' {
		return h.slow(b)
	}
	out := make([]Hash, 0, bytes.Count(b, []byte{'"'})/2)
	rest := b[1:]
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n,")
		if len(rest) > 0 && rest[0] == ']' {
			break
		}
		if len(rest) == 0 || rest[0] != '"' {
			return h.slow(b)
		}
		end := bytes.IndexByte(rest[1:], '"') + 1
		if end < 1 || bytes.IndexByte(rest[:end], '\\') >= 0 {
			return h.slow(b)
		}
		d, err := ParseDigest(string(rest[1:end]))
		if err != nil {
			return fmt.Errorf("chunk %d: %w", len(out), err)
		}
		out = append(out, d)
		rest = rest[end+1:]
	}
	*h = out
	return nil
}

// slow decodes b with encoding/json.
func (h *hexHashes) slow(b []byte) error {
	var list []Hash
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*h = list
	return nil
}

// MaxManifestBytes bounds a JSON manifest: MaxChunks hex hashes plus room for
// the other fields.
const MaxManifestBytes = MaxChunks*(2*sha256.Size+3) + 4096

// HashChunk returns the SHA-256 of one chunk.
func HashChunk(data []byte) Hash { return sha256.Sum256(data) }

// NewManifest returns the manifest of a file of the given size whose chunks,
// cut at ChunkSize(size), hash to chunks.
func NewManifest(name, mediaType string, size int64, chunks []Hash) *Manifest {
	cs := ChunkSize(size)
	return &Manifest{
		Version:   FormatVersion,
		Digest:    ComputeDigest(size, cs, chunks),
		Name:      name,
		Type:      mediaType,
		Size:      size,
		ChunkSize: cs,
		Chunks:    chunks,
	}
}
