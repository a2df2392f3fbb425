package tracker

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/skip2/go-qrcode"

	"tabswarm/signaling"
)

// MaxQRText bounds the text GET /qr.svg encodes: a share link or a page
// URL is far shorter, and a QR code of more would be too dense to scan
// from a screen.
const MaxQRText = 512

// getQR answers GET /qr.svg?text=T: T as a QR code in SVG, black on white
// (scanners want that whatever the page's theme), with its quiet zone. It
// stays outside /api so that an <img> of a private tracker's page loads it:
// it shows nothing but the text it was given. An empty or too long text
// gets 400.
func (t *Tracker) getQR(w http.ResponseWriter, r *http.Request) {
	text := r.URL.Query().Get("text")
	switch {
	case text == "":
		writeError(w, http.StatusBadRequest, errorf(signaling.CodeBadMessage, "qr.svg needs a text parameter"))
		return
	case len(text) > MaxQRText:
		writeError(w, http.StatusBadRequest, errorf(signaling.CodeTooLarge, "text is %d bytes, limit %d", len(text), MaxQRText))
		return
	}
	svg, err := qrSVG(text)
	if err != nil {
		writeError(w, http.StatusBadRequest, errorf(signaling.CodeTooLarge, "%v", err))
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write([]byte(svg))
}

// qrSVG draws text as a QR code (medium error correction): one path of
// unit squares on a white square, one unit per module.
func qrSVG(text string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("tracker: encoding a QR code: %w", err)
	}
	bits := q.Bitmap()
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, black := range row {
			if black {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
