package signaling

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen bounds a peer's Name, in characters after CleanName.
const MaxNameLen = 40

// CleanName returns name as the tracker keeps it: spaces trimmed, every
// run of white space one space, and control and format characters (such
// as the bidirectional overrides that could disguise a name) removed. It
// fails, wrapping ErrBadName, on text that is not UTF-8 or that is longer
// than MaxNameLen characters once cleaned. An empty result clears a name.
func CleanName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not UTF-8", ErrBadName)
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	clean := b.String()
	if n := utf8.RuneCountInString(clean); n > MaxNameLen {
		return "", fmt.Errorf("%w: %d characters, limit %d", ErrBadName, n, MaxNameLen)
	}
	return clean, nil
}
