package reconcile

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isHostField reports whether an identification field holds a DNS name, whose
// trailing root dot is dropped before comparison.
func isHostField(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "host") || strings.Contains(n, "domain") ||
		strings.Contains(n, "fqdn") || strings.Contains(n, "dns")
}

// appendKey appends the identification form of s to dst: trimmed, lower-cased, every
// run of inner white space collapsed to one space and, for host fields, without a
// trailing dot. Bytes that are not valid UTF-8 are kept as they are.
func appendKey(dst []byte, s string, host bool) []byte {
	s = strings.TrimSpace(s)
	if host {
		s = strings.TrimRightFunc(strings.TrimSuffix(s, "."), unicode.IsSpace)
	}
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
				space = true
				continue
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			}
			if space {
				dst = append(dst, ' ')
				space = false
			}
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if space {
				dst = append(dst, ' ')
				space = false
			}
			dst = append(dst, c)
			i++
			continue
		}
		i += size
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// sameValue reports whether a recorded and an observed attribute value agree:
// decimal numbers compare by value ("4" equals "4.0" and "4e0"), the words true and
// false compare without regard to letter case, and anything else compares exactly
// after trimming surrounding white space.
func sameValue(recorded, observed string) bool {
	a, b := strings.TrimSpace(recorded), strings.TrimSpace(observed)
	if a == b {
		return true
	}
	var bufA, bufB [48]byte
	if na, ok := appendNumber(bufA[:0], a); ok {
		nb, ok := appendNumber(bufB[:0], b)
		return ok && bytes.Equal(na, nb)
	}
	return isBool(a) && isBool(b) && strings.EqualFold(a, b)
}

// sameKey reports whether two values of an identification field agree in their
// normalised identification form.
func sameKey(recorded, observed string, host bool) bool {
	var bufA, bufB [64]byte
	return bytes.Equal(appendKey(bufA[:0], recorded, host), appendKey(bufB[:0], observed, host))
}

func isBool(s string) bool { return strings.EqualFold(s, "true") || strings.EqualFold(s, "false") }

// appendNumber appends to dst an exact canonical form of a decimal number written as
// [+-]digits[.digits][(e|E)[+-]digits] (the integer or the fraction part may be
// empty, not both), so that equal values have equal forms however they are written;
// ok is false when s is not such a number. Hexadecimal, infinities, NaN and digit
// separators are not numbers here.
func appendNumber(dst []byte, s string) (_ []byte, ok bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	var fracPart string
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracPart = s[fracStart:i]
	}
	if intPart == "" && fracPart == "" {
		return dst, false
	}
	exp := -len(fracPart)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start := i
		e := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			if e > 1e8 {
				return dst, false // absurd exponent: leave it to string comparison
			}
			e = e*10 + int(s[i]-'0')
		}
		if i == start {
			return dst, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(s) {
		return dst, false
	}
	// The significant digits are intPart+fracPart without leading or trailing zeros;
	// trailing zeros move into the exponent.
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		fracPart = strings.TrimLeft(fracPart, "0")
	}
	if intPart == "" && fracPart == "" {
		return append(dst, '0'), true
	}
	if t := strings.TrimRight(fracPart, "0"); fracPart != "" && t != "" {
		exp += len(fracPart) - len(t)
		fracPart = t
	} else if fracPart != "" {
		exp += len(fracPart)
		fracPart = ""
		t := strings.TrimRight(intPart, "0")
		exp += len(intPart) - len(t)
		intPart = t
	} else {
		t := strings.TrimRight(intPart, "0")
		exp += len(intPart) - len(t)
		intPart = t
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, intPart...)
	dst = append(dst, fracPart...)
	dst = append(dst, 'e')
	return strconv.AppendInt(dst, int64(exp), 10), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
