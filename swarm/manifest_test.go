package swarm

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChunkSize(t *testing.T) {
	for _, c := range []struct{ size, want int64 }{
		{0, MinChunkSize},
		{1, MinChunkSize},
		{TargetChunks * MinChunkSize, MinChunkSize},
		{TargetChunks*MinChunkSize + 1, 2 * MinChunkSize},
		{1 << 30, 1 << 20},
		{4 << 30, 4 << 20},
		{1 << 40, MaxChunkSize},
	} {
		got := ChunkSize(c.size)
		if got != c.want {
			t.Errorf("ChunkSize(%d) = %d, want %d", c.size, got, c.want)
		}
		if got&(got-1) != 0 {
			t.Errorf("ChunkSize(%d) = %d is not a power of two", c.size, got)
		}
	}
}

func testManifest(size int) *Manifest {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return NewManifest("a.txt", "text/plain", int64(size), HashRun(nil, data, ChunkSize(int64(size))))
}

func TestDigestDependsOnContentOnly(t *testing.T) {
	a, b := testManifest(1000), testManifest(1000)
	b.Name, b.Type = "other name.bin", ""
	if a.Digest != b.Digest {
		t.Fatal("the name changed the digest")
	}
	if testManifest(1001).Digest == a.Digest {
		t.Fatal("different content, same digest")
	}
}

func TestManifestRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, MinChunkSize, MinChunkSize + 1} {
		m := testManifest(size)
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseManifest(raw, m.Digest)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got.Digest != m.Digest || got.NumChunks() != m.NumChunks() || got.Name != m.Name {
			t.Fatalf("size %d: got %+v", size, got)
		}
		if size > 0 && got.ChunkLen(got.NumChunks()-1) != (size-1)%MinChunkSize+1 {
			t.Fatalf("size %d: last chunk %d bytes", size, got.ChunkLen(got.NumChunks()-1))
		}
	}
}

func TestParseManifestRejects(t *testing.T) {
	good := testManifest(MinChunkSize + 1)
	mutate := func(f func(m *Manifest)) []byte {
		m := *good
		m.Chunks = append([]Hash(nil), good.Chunks...)
		f(&m)
		raw, _ := json.Marshal(&m)
		return raw
	}
	for name, raw := range map[string][]byte{
		"not json":              []byte("{"),
		"unknown field":         []byte(strings.Replace(string(mutate(func(*Manifest) {})), `"version"`, `"extra":1,"version"`, 1)),
		"bad version":           mutate(func(m *Manifest) { m.Version = 2 }),
		"chunk hash":            mutate(func(m *Manifest) { m.Chunks[1][0] ^= 1 }),
		"size":                  mutate(func(m *Manifest) { m.Size++ }),
		"negative size":         mutate(func(m *Manifest) { m.Size = -1 }),
		"chunk size":            mutate(func(m *Manifest) { m.ChunkSize *= 2 }),
		"chunk count":           mutate(func(m *Manifest) { m.Chunks = m.Chunks[:1] }),
		"long name":             mutate(func(m *Manifest) { m.Name = strings.Repeat("x", MaxNameLen+1) }),
		"huge":                  make([]byte, MaxManifestBytes+1),
		"past the largest file": pastLargest(), // 1 TiB and 54 chunks more
	} {
		if _, err := ParseManifest(raw, Hash{}); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: err = %v, want ErrBadManifest", name, err)
		}
	}
	raw, _ := json.Marshal(good)
	if _, err := ParseManifest(raw, Hash{1}); !errors.Is(err, ErrBadManifest) {
		t.Errorf("wrong digest: err = %v, want ErrBadManifest", err)
	}
}

// pastLargest is a consistent manifest (chunk size and count as the rule
// makes them, digest right) of a file MaxChunkSize*54 bytes over
// MaxFileSize: 65,590 chunks, which fit in MaxManifestBytes.
func pastLargest() []byte {
	const n = MaxChunks + 54
	raw, _ := json.Marshal(NewManifest("big", "", n*MaxChunkSize, make([]Hash, n)))
	return raw
}

func TestParseDigest(t *testing.T) {
	m := testManifest(10)
	d, err := ParseDigest(strings.ToUpper(m.Digest.String()))
	if err != nil || d != m.Digest {
		t.Fatalf("upper-case digest: %v", err)
	}
	for _, s := range []string{"", "abc", strings.Repeat("g", 64), strings.Repeat("a", 65)} {
		if _, err := ParseDigest(s); !errors.Is(err, ErrBadDigest) {
			t.Errorf("%q: err = %v, want ErrBadDigest", s, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	raw, _ := json.Marshal(testManifest(MinChunkSize + 1))
	f.Add(raw)
	f.Add(pastLargest())
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b, Hash{})
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed manifest fails validation: %v", err)
		}
	})
}

// TestHexHashesAsEncodingJSON: the manifest's own decoder of chunk hash
// lists agrees with encoding/json's decoding of []Hash, list by list,
// on what it accepts and what it decodes.
func TestHexHashesAsEncodingJSON(t *testing.T) {
	a, b := HashChunk([]byte("a")), HashChunk([]byte("b"))
	indented, err := json.MarshalIndent([]Hash{a, b}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	upper := strings.ToUpper(a.String())
	escaped := `\u00` + hex.EncodeToString([]byte(a.String()[:1])) + a.String()[1:]
	for _, in := range []string{
		`["` + a.String() + `","` + b.String() + `"]`,
		string(indented),
		`[ "` + upper + `" ]`,
		`["` + escaped + `"]`,
		`[]`,
		`null`,
		`["` + a.String()[:62] + `"]`,
		`["` + strings.Repeat("zz", 32) + `"]`,
		`["` + a.String() + `", 7]`,
		`[""]`,
		`{"a": 1}`,
		`"` + a.String() + `"`,
	} {
		var want []Hash
		wantErr := json.Unmarshal([]byte(in), &want)
		var got hexHashes
		gotErr := json.Unmarshal([]byte(in), &got)
		if (gotErr != nil) != (wantErr != nil) || wantErr == nil && (!slices.Equal(got, want) || (got == nil) != (want == nil)) {
			t.Errorf("%s: got %v (err %v), encoding/json %v (err %v)", in, []Hash(got), gotErr, want, wantErr)
		}
	}
}
