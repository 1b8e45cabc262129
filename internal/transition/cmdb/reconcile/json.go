package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

func parseJSON(r io.Reader, lim Limits) (Table, error) {
	p := &jsonParser{dec: json.NewDecoder(r), lim: lim, cols: newColumnSet(), rawKeys: make(map[string]int)}
	return p.parse()
}

// jsonParser walks the top-level structure with the decoder's tokens and reads each
// row as one raw value, which the decoder has checked is valid JSON, with a small
// scanner: much faster than a token per value.
type jsonParser struct {
	dec     *json.Decoder
	lim     Limits
	cols    *columnSet
	rawKeys map[string]int // key exactly as written between its quotes → column index
	stamp   []int          // per column: the line of the last row that set it
	rows    []Row
	line    int // 1-based index of the element being read, 0 outside the array
}

func (p *jsonParser) parse() (Table, error) {
	tok, err := p.topToken()
	if err == io.EOF {
		return Table{}, errorf(0, "", "empty file: want an array of objects or {\"items\": [...]}")
	}
	if err != nil {
		return Table{}, err
	}
	switch tok {
	case json.Delim('['):
		if err := p.array(); err != nil {
			return Table{}, err
		}
	case json.Delim('{'):
		if err := p.wrapper(); err != nil {
			return Table{}, err
		}
	default:
		return Table{}, errorf(0, "", "want an array of objects or {\"items\": [...]}, got %s", describe(tok))
	}
	if _, err := p.topToken(); err != io.EOF {
		if err != nil {
			return Table{}, err
		}
		return Table{}, errorf(0, "", "unexpected data after the top-level value")
	}
	return Table{Columns: p.cols.names, Rows: p.rows}, nil
}

// wrapper reads the members of {"items": [...]}, skipping any other member.
func (p *jsonParser) wrapper() error {
	found := false
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if key, _ := tok.(string); key != "items" {
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return p.wrap(err)
			}
			continue
		}
		if found {
			return errorf(0, "", "member \"items\" appears twice")
		}
		found = true
		tok, err = p.token()
		if err != nil {
			return err
		}
		if tok != json.Delim('[') {
			return errorf(0, "", "member \"items\" must be an array, got %s", describe(tok))
		}
		if err := p.array(); err != nil {
			return err
		}
	}
	if _, err := p.token(); err != nil { // closing brace
		return err
	}
	if !found {
		return errorf(0, "", "object has no \"items\" array")
	}
	return nil
}

// array reads the elements of the rows array, its opening bracket already consumed.
func (p *jsonParser) array() error {
	var raw json.RawMessage
	for p.dec.More() {
		p.line++
		if p.line > p.lim.MaxRows {
			return errorf(p.line, "", "more than %d rows", p.lim.MaxRows)
		}
		raw = raw[:0]
		if err := p.dec.Decode(&raw); err != nil {
			return p.wrap(err)
		}
		row, err := p.object(raw)
		if err != nil {
			return err
		}
		p.rows = append(p.rows, row)
	}
	if _, err := p.token(); err != nil { // closing bracket
		return err
	}
	p.line = 0
	return nil
}

// object reads one element, which must be a flat object; raw is valid JSON.
func (p *jsonParser) object(raw []byte) (Row, error) {
	s := scanner{b: raw}
	if c := s.next(); c != '{' {
		return Row{}, errorf(p.line, "", "want an object, got %s", kindOf(c))
	}
	row := Row{Line: p.line, Fields: make(map[string]string, len(p.cols.names))}
	for {
		c := s.next()
		if c == ',' {
			c = s.next()
		}
		if c == '}' {
			return row, nil
		}
		if c != '"' {
			return Row{}, errorf(p.line, "", "invalid JSON object") // not reached for valid JSON
		}
		quoted, escaped := s.str()
		key, err := p.column(quoted, escaped)
		if err != nil {
			return Row{}, err
		}
		if s.next() != ':' {
			return Row{}, errorf(p.line, key, "invalid JSON object") // not reached for valid JSON
		}
		var v string
		switch c := s.next(); c {
		case '"':
			v = unquote(s.str())
		case '{', '[':
			return Row{}, errorf(p.line, key, "nested %s: values must be strings, numbers, booleans or null", kindOf(c))
		case 't', 'f', 'n':
			s.i-- // back to the literal's first letter
			v = s.literal()
			if v == "null" {
				continue // absent
			}
		default:
			s.i--
			v = s.literal() // a number, kept as written
		}
		if len(v) > MaxValueBytes {
			return Row{}, errorf(p.line, key, "value longer than %d bytes", MaxValueBytes)
		}
		row.Fields[key] = v
	}
}

// column resolves a key, as written between its quotes, to its column name,
// registering new columns and refusing empty, over-long, clashing or repeated keys.
func (p *jsonParser) column(quoted []byte, escaped bool) (string, error) {
	idx, ok := p.rawKeys[string(quoted)]
	if !ok {
		key := strings.TrimSpace(unquote(quoted, escaped))
		if key == "" {
			return "", errorf(p.line, "", "empty key")
		}
		if len(key) > MaxValueBytes {
			return "", errorf(p.line, "", "key longer than %d bytes", MaxValueBytes)
		}
		var (
			isNew bool
			clash string
		)
		idx, isNew, clash = p.cols.add(key)
		if clash != "" {
			if i := p.cols.byFold[strings.ToLower(key)]; p.stamp[i] == p.line {
				return "", errorf(p.line, key, "duplicate key (same as %q apart from letter case)", clash)
			}
			return "", errorf(p.line, key, "column name differs from %q only in letter case", clash)
		}
		if isNew {
			if len(p.cols.names) > p.lim.MaxColumns {
				return "", errorf(p.line, key, "more than %d columns", p.lim.MaxColumns)
			}
			p.stamp = append(p.stamp, 0)
		}
		p.rawKeys[string(quoted)] = idx
	}
	key := p.cols.names[idx]
	if p.stamp[idx] == p.line {
		return "", errorf(p.line, key, "duplicate key")
	}
	p.stamp[idx] = p.line
	return key, nil
}

// scanner reads a value the JSON decoder has already validated.
type scanner struct {
	b []byte
	i int
}

// next returns the next byte that is not white space, or 0 at the end.
func (s *scanner) next() byte {
	for s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}

// str returns the content of the string whose opening quote was just read, and
// whether it holds escapes.
func (s *scanner) str() ([]byte, bool) {
	start, escaped := s.i, false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			return s.b[start : s.i-1], escaped
		}
		s.i++
	}
	return s.b[start:min(s.i, len(s.b))], escaped
}

// literal returns a number, true, false or null as written.
func (s *scanner) literal() string {
	start := s.i
loop:
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			break loop
		}
	}
	return string(s.b[start:s.i])
}

// unquote decodes the content of a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func unquote(content []byte, escaped bool) string {
	if !escaped && utf8.Valid(content) {
		return string(content)
	}
	quoted := make([]byte, 0, len(content)+2)
	quoted = append(append(append(quoted, '"'), content...), '"')
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return string(content) // not reached for valid JSON
	}
	return v
}

func kindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	return "number"
}

// token reads the next token inside the top-level value, where the end of the
// file is an error.
func (p *jsonParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, errorf(p.line, "", "unexpected end of file")
	}
	if err != nil {
		return nil, p.wrap(err)
	}
	return tok, nil
}

// topToken reads a token outside the top-level value, passing io.EOF through.
func (p *jsonParser) topToken() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil && err != io.EOF {
		return nil, p.wrap(err)
	}
	return tok, err
}

// wrap turns a decoder error into an *Error at the current element.
func (p *jsonParser) wrap(err error) error {
	if errors.Is(err, errTooLarge) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errorf(p.line, "", "unexpected end of file")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errorf(p.line, "", "invalid JSON at byte %d: %v", se.Offset, se)
	}
	return errorf(p.line, "", "invalid JSON: %v", err)
}

func describe(tok json.Token) string {
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			return "object"
		case '[':
			return "array"
		}
		return fmt.Sprintf("%q", string(x))
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}
