//go:build !js

package filestore

import (
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("é", 150) + ".tar.gz"
	for _, c := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\x\y.doc`, "y.doc"},
		{"dir/", ""},
		{"..", ""},
		{".bashrc", "bashrc"},
		{"...hidden.txt", "hidden.txt"},
		{" \x00\x1b ", ""},
		{"bad\nname\t.txt", "badname.txt"},
		{"invoice\u202Egpj.exe", "invoicegpj.exe"},
		{"a\u2066b\u2069\u200Fc\u061C.txt", "abc.txt"},
		{"zero\u200Bwidth\uFEFF.txt", "zerowidth.txt"},
		{"line\u2028sep.txt", "linesep.txt"},
		{"nbsp\u00a0name.txt", "nbsp name.txt"},
		{`a<b>c:d"e|f?g*h.txt`, "a_b_c_d_e_f_g_h.txt"},
		{"CON", "_CON"},
		{"con.txt", "_con.txt"},
		{"Nul.tar.gz", "_Nul.tar.gz"},
		{"com1", "_com1"},
		{"LPT9.log", "_LPT9.log"},
		{"COM¹.txt", "_COM¹.txt"},
		{"COM10.txt", "COM10.txt"},
		{"console.txt", "console.txt"},
		{"trailing. . ", "trailing"},
		{"ok name.txt", "ok name.txt"},
		{"日本語.txt", "日本語.txt"},
		{"bad\xffutf8.txt", "badutf8.txt"},
		{long, strings.Repeat("é", (maxName-len(".gz"))/2) + ".gz"},
	} {
		got := SafeName(c.in)
		if got != c.want {
			t.Errorf("SafeName(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > maxName {
			t.Errorf("SafeName(%q) is %d bytes", c.in, len(got))
		}
	}
}
