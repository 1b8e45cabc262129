package sla

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// scanChanges is a fast reader of the audit changes JSON
// ([{"field":…,"old":…,"new":…},…]) for the tracked fields, which the
// tracker reads for millions of entries. It returns false on anything it does
// not expect, and EntryFromAudit then falls back on encoding/json. It skips
// the values of untracked fields without checking their syntax, so the input
// is checked first (json.Valid allocates nothing): invalid JSON goes to
// encoding/json, which says what is wrong with it.
func scanChanges(b []byte) ([]Change, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	p := scanner{b: b}
	p.space()
	if !p.eat('[') {
		return nil, false
	}
	var out []Change
	p.space()
	if p.eat(']') {
		return out, p.end()
	}
	for {
		p.space()
		if !p.eat('{') {
			return nil, false
		}
		var field string
		var oldV, newV []byte
		p.space()
		if !p.eat('}') {
			for {
				p.space()
				key, ok := p.key()
				if !ok {
					return nil, false
				}
				p.space()
				if !p.eat(':') {
					return nil, false
				}
				p.space()
				start := p.i
				if !p.value() {
					return nil, false
				}
				v := p.b[start:p.i]
				switch string(key) {
				case "field":
					if v[0] != '"' {
						return nil, false
					}
					field = trackedName(v[1 : len(v)-1])
				case "old":
					oldV = v
				case "new":
					newV = v
				}
				p.space()
				if p.eat('}') {
					break
				}
				if !p.eat(',') {
					return nil, false
				}
			}
		}
		if field != "" {
			o, ok := scalarFact(oldV)
			if !ok {
				return nil, false
			}
			n, ok := scalarFact(newV)
			if !ok {
				return nil, false
			}
			out = append(out, Change{Field: field, Old: o, New: n})
		}
		p.space()
		if p.eat(']') {
			return out, p.end()
		}
		if !p.eat(',') {
			return nil, false
		}
	}
}

// scalarFact is a scanned JSON value as a fact; objects, arrays and
// anything unusual go to the slow path.
func scalarFact(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", true
	}
	switch v[0] {
	case 'n':
		return "", true
	case 't', 'f':
		return string(v), true
	case '"':
		return unquote(v)
	case '{', '[':
		return "", false
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return intFact(n), true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return "", false
	}
	return floatFact(f), true
}

// unquote reads a JSON string without escapes; one with escapes or invalid
// UTF-8 goes to the slow path.
func unquote(v []byte) (string, bool) {
	if len(v) < 2 {
		return "", false
	}
	in := v[1 : len(v)-1]
	for _, c := range in {
		if c == '\\' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

type scanner struct {
	b []byte
	i int
}

func (p *scanner) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scanner) end() bool {
	p.space()
	return p.i == len(p.b)
}

// key reads an object key without its quotes (a key with escapes is left to
// the slow path).
func (p *scanner) key() ([]byte, bool) {
	start := p.i
	if !p.skipString() {
		return nil, false
	}
	k := p.b[start+1 : p.i-1]
	for _, c := range k {
		if c == '\\' {
			return nil, false
		}
	}
	return k, true
}

// trackedName is the tracked field a field name (JSON string contents) names,
// or "" (also for one with escapes, which no tracked name has).
func trackedName(b []byte) string {
	for _, f := range TrackedFields {
		if string(b) == f {
			return f
		}
	}
	return ""
}

// skipString moves past a JSON string, escapes included.
func (p *scanner) skipString() bool {
	if !p.eat('"') {
		return false
	}
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '\\':
			p.i += 2
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		default:
			p.i++
		}
	}
	return false
}

// value moves past one JSON value (nested ones too).
func (p *scanner) value() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.skipString()
	case c == '{' || c == '[':
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '"':
				if !p.skipString() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return true
				}
			}
			p.i++
		}
		return false
	default:
		start := p.i
		for p.i < len(p.b) {
			c := p.b[p.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			p.i++
		}
		return p.i > start
	}
}
