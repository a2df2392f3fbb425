//go:build js

package main

import (
	"slices"
	"testing"

	"tabswarm/swarm"
)

func TestSetPaths(t *testing.T) {
	for _, c := range []struct {
		rels  []string
		name  string
		paths []string
	}{
		{[]string{"trip/a.jpg", "trip/sub/b.jpg"}, "trip", []string{"a.jpg", "sub/b.jpg"}},
		{[]string{"a.txt", "b.txt", "a.txt", "a.txt"}, "4 files", []string{"a.txt", "b.txt", "a (2).txt", "a (3).txt"}},
		{[]string{"x/../../etc", "a\\b", "c\x00d", ".."}, "4 files", []string{"x/etc", "a_b", "c_d", "file"}},
		{[]string{"trip/evil\u202egpj.exe", "trip/\u2066b"}, "trip", []string{"evil_gpj.exe", "_b"}},
	} {
		name, paths := setPaths(c.rels)
		if name != c.name || !slices.Equal(paths, c.paths) {
			t.Errorf("setPaths(%q) = %q, %q; want %q, %q", c.rels, name, paths, c.name, c.paths)
		}
		for _, p := range paths {
			if err := swarm.CheckPath(p); err != nil {
				t.Errorf("setPaths(%q) gave an unsafe path: %v", c.rels, err)
			}
		}
	}
}
