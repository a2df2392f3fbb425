package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrintURLsQR prints the URLs on a pseudo-terminal, turns the QR code
// drawn there back into an image and has zbarimg decode it; on a pipe or
// buffer no QR code is drawn.
func TestPrintURLsQR(t *testing.T) {
	urls := []string{"http://192.0.2.7:8080", "http://localhost:8080"}
	var buf bytes.Buffer
	printURLs(&buf, urls, false)
	if strings.ContainsAny(buf.String(), "█▀▄") || !strings.Contains(buf.String(), urls[1]) {
		t.Errorf("not a terminal: %q", buf.String())
	}

	pts, out := openPTY(t, 120)
	printURLs(pts, urls, true)
	got := ptyOutput(t, pts, out)
	if !strings.Contains(got, "private") {
		t.Errorf("no word on the token in %q", got)
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg not found under CI (.ci/run installs zbar-tools)")
		}
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	// Each glyph is two modules, top and bottom; a lit half is light.
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(got, "\r", ""), "\n") {
		if strings.ContainsAny(l, "█▀▄") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 10 {
		t.Fatalf("no QR code in %q", got)
	}
	const scale = 6
	w := len([]rune(lines[0]))
	img := image.NewGray(image.Rect(0, 0, w*scale, 2*len(lines)*scale))
	for y, l := range lines {
		for x, r := range []rune(l) {
			top := r == '█' || r == '▀'
			bottom := r == '█' || r == '▄'
			for dy := range scale {
				for dx := range scale {
					img.SetGray(x*scale+dx, 2*y*scale+dy, shade(top))
					img.SetGray(x*scale+dx, (2*y+1)*scale+dy, shade(bottom))
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dec, err := exec.Command(zbar, "--quiet", "--raw", path).Output()
	if err != nil || strings.TrimSpace(string(dec)) != urls[0] {
		t.Errorf("zbarimg read %q (%v), want %s", dec, err, urls[0])
	}
}

func shade(light bool) color.Gray {
	if light {
		return color.Gray{Y: 255}
	}
	return color.Gray{}
}
