package signaling

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Ada", "Ada"},
		{"  Ada \t\n Lovelace  ", "Ada Lovelace"},
		{"evil\u202eexe.txt", "evilexe.txt"}, // a bidi override
		{"a\x00b\x1bc\u200bd", "abcd"},
		{"Zoë 🦊", "Zoë 🦊"},
		{"", ""},
		{" \u200b ", ""},
		{strings.Repeat("é", MaxNameLen), strings.Repeat("é", MaxNameLen)},
	} {
		if got, err := CleanName(c.in); err != nil || got != c.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"a\xffb", strings.Repeat("x", MaxNameLen+1)} {
		if got, err := CleanName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CleanName(%q) = %q, %v; want ErrBadName", bad, got, err)
		}
	}
}
