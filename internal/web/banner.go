package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"steward/internal/platform/settings"
)

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// neutralBackground and neutralForeground colour the banner when the stored
// colours are not #rrggbb. They are deliberately not a classification colour,
// so a broken setting never makes the banner look like a marking it is not.
const (
	neutralBackground = "#000000"
	neutralForeground = "#ffffff"
)

// bannerCSS is the stylesheet that colours the classification banner. Colours
// that are not #rrggbb are never emitted; ok is false when they were replaced.
func bannerCSS(p settings.Presentation) (css []byte, ok bool) {
	bg, fg := p.BannerBackground, p.BannerForeground
	ok = colourRE.MatchString(bg) && colourRE.MatchString(fg)
	if !ok {
		bg, fg = neutralBackground, neutralForeground
	}
	return fmt.Appendf(nil, ".banner{background-color:%s;color:%s}\n", bg, fg), ok
}

// pageMarkingCSS is the print rule that repeats the classification marking as
// bold text in the top and bottom margin of every printed page (the coloured
// banners open and close the document itself). The text is written as a CSS
// string with every quote, backslash and control character escaped, so a
// setting can never end the string or the rule.
func pageMarkingCSS(text string) []byte {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	box := "{content:" + cssString(text) + ";color:#000000;font:700 9pt sans-serif;letter-spacing:.06em}"
	return fmt.Appendf(nil, "@media print{@page{@top-center%s@bottom-center%s}}\n", box, box)
}

// cssString quotes s as a CSS string: '"', '\\', control characters and
// anything outside printable ASCII become hexadecimal escapes.
func cssString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			fmt.Fprintf(&b, "\\%x ", r)
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// bannerStylesheet serves GET /banner.css. Inline styles are forbidden by the
// CSP, so the colours from the settings come as their own stylesheet, with the
// rule that marks every printed page; pages link it with the settings'
// version, and it is revalidated on every use.
func (s *site) bannerStylesheet(w http.ResponseWriter, r *http.Request) {
	pres, err := s.Settings.Presentation(r.Context())
	if err != nil {
		s.Log.Error("banner stylesheet: read settings", "error", err.Error())
		pres = settings.Presentation{} // neutral colours
	}
	css, ok := bannerCSS(pres)
	css = append(css, pageMarkingCSS(pres.BannerText)...)
	if !ok && err == nil {
		s.Log.Warn("banner colours in the settings are not #rrggbb; using neutral colours",
			"background", fmt.Sprintf("%q", pres.BannerBackground), "foreground", fmt.Sprintf("%q", pres.BannerForeground))
	}
	sum := sha256.Sum256(css)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(css)
}
