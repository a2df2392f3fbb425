//go:build !js

package filestore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxName bounds a safe name in bytes, leaving room for ".part.json"
// within the 255 bytes most file systems allow.
const maxName = 200

// SafeName returns name, a file's name as a peer or a manifest gave it,
// made safe to write in a folder on any common system: only the last path
// element (after / or \); no control, bidirectional-override or other
// format characters (U+202E could show "gpj.exe" as "exe.jpg"); no
// characters Windows forbids (<>:"|?*), which become "_"; no leading dots
// (a hidden file) nor leading or trailing spaces and dots; Windows'
// reserved device names (CON, NUL, COM1, LPT1, … with any extension) get
// a "_" in front; at most maxName bytes, keeping the extension. It
// returns "" when nothing is left; the caller names the file then.
func SafeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r),
			unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if reserved(name) {
		name = "_" + name
	}
	return truncate(name, maxName)
}

// reserved reports whether name is one of Windows' device names, which
// stand for the device whatever their extension.
func reserved(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) >= 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		d := stem[3:]
		return len(d) == 1 && d[0] >= '0' && d[0] <= '9' || d == "¹" || d == "²" || d == "³"
	}
	return false
}

// truncate cuts name to at most n bytes on a character boundary, keeping
// a short extension.
func truncate(name string, n int) string {
	if len(name) <= n {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		name, ext = name[:i], name[i:]
	}
	n -= len(ext)
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	return strings.TrimRight(name[:n], ". ") + ext
}
