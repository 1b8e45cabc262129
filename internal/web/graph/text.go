package graph

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }

// charWidth estimates a character's advance in em, measured on DejaVu Sans
// (the widest of the fonts the pages ask for, and what Debian's Chromium
// uses), so it errs wide elsewhere; the boxes also clip their text, so a wrong
// guess costs a few hidden pixels, never an overflow.
func charWidth(r rune) float64 {
	if r < 0x80 {
		return asciiWidth[r]
	}
	if unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) || r >= 0x1F300 {
		return 1.0
	}
	return 0.66
}

// asciiWidth holds charWidth for ASCII.
var asciiWidth = func() (w [128]float64) {
	for r := range w {
		switch {
		case r == ' ':
			w[r] = 0.32
		case strings.ContainsRune("iljtfrI.,:;'|!()[]", rune(r)):
			w[r] = 0.37
		case strings.ContainsRune("mwMW@%&", rune(r)):
			w[r] = 0.92
		case r >= '0' && r <= '9':
			w[r] = 0.64
		case r >= 'A' && r <= 'Z':
			w[r] = 0.7
		default:
			w[r] = 0.58
		}
	}
	return w
}()

// boldWidth is how much wider bold text runs.
const boldWidth = 1.13

// textWidth estimates the width in pixels of s set at size px, bold or not.
func textWidth(s string, size float64, bold bool) float64 {
	w := 0.0
	for _, r := range s {
		w += charWidth(r)
	}
	if bold {
		w *= boldWidth
	}
	return w * size
}

// appendFit appends s, escaped and shortened with an ellipsis so that it fits
// in width pixels.
func appendFit(b []byte, s string, size, width float64, bold bool) []byte {
	s = strings.TrimSpace(s)
	if textWidth(s, size, bold) <= width {
		return appendText(b, s)
	}
	k := 1.0
	if bold {
		k = boldWidth
	}
	room := width/size/k - charWidth('…')
	w := 0.0
	for i, r := range s {
		w += charWidth(r)
		if w > room {
			b = appendText(b, strings.TrimRight(s[:i], " "))
			return append(b, "…"...)
		}
	}
	return appendText(b, s)
}

// appendText appends s escaped for XML text and attribute values, dropping
// characters XML cannot carry and turning line breaks and tabs into spaces.
func appendText(b []byte, s string) []byte {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' {
			clean = false
			break
		}
	}
	if clean {
		return append(b, s...)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '"':
			b = append(b, "&#34;"...)
		case r == '\'':
			b = append(b, "&#39;"...)
		case r == '\t' || r == '\n' || r == '\r':
			b = append(b, ' ')
		case r == utf8.RuneError && size == 1:
			b = utf8.AppendRune(b, '\uFFFD')
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0x7F && r <= 0x9F):
			// Not allowed (or discouraged) in XML: leave it out.
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// safeHref returns the link target if it is relative or uses http, https or
// mailto, and "" otherwise: javascript: and data: URLs never become links.
func safeHref(h string) string {
	h = strings.TrimSpace(h)
	if h == "" {
		return ""
	}
	for i := 0; i < len(h); i++ {
		if h[i] < 0x20 || h[i] == 0x7F {
			return ""
		}
	}
	i := strings.IndexAny(h, ":/?#")
	if i < 0 || h[i] != ':' {
		return h
	}
	switch strings.ToLower(h[:i]) {
	case "http", "https", "mailto":
		return h
	}
	return ""
}

// appendNum appends v rounded to a tenth, without a trailing ".0".
func appendNum(b []byte, v float64) []byte {
	v = math.Round(v*10) / 10
	if v == math.Trunc(v) {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'f', 1, 64)
}

// idPrefix derives the prefix of the SVG's element ids from its input, so two
// different graphs on one page do not share ids and the same graph always
// renders to the same bytes. It sums a hash of each node and edge, so it does
// not depend on their order either.
func idPrefix(nodes []Node, edges []Edge, opt Options) string {
	const offset, prime = 14695981039346656037, 1099511628211 // FNV-1a
	var h uint64
	num := func(v int64) {
		for i := 0; i < 8; i++ {
			h = (h ^ uint64(byte(v>>(8*i)))) * prime
		}
	}
	str := func(s string) {
		num(int64(len(s)))
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
	}
	var sum uint64
	for _, n := range nodes {
		h = offset
		num(n.ID)
		num(int64(n.Layer))
		str(n.Label)
		str(n.Kind)
		str(n.State)
		str(n.Href)
		str(n.Note)
		sum += h
	}
	for _, e := range edges {
		h = offset
		num(e.From)
		num(e.To)
		str(e.Label)
		sum += h
	}
	h = offset
	num(int64(sum))
	str(opt.Title)
	str(opt.Direction)
	num(int64(opt.MaxPerLayer))
	return "g" + strconv.FormatUint(h&0xffffffff, 36)
}
