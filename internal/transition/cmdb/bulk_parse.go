package cmdb

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"steward/internal/platform/errs"
	"steward/internal/transition/cmdb/reconcile"
)

// sourceFile is a parsed import or discovery file.
type sourceFile struct {
	table reconcile.Table
	sha   string
	// offset is added to the parser's line numbers: 1 when a classification
	// banner line was dropped from the top of a CSV file.
	offset int
}

// readFile parses a CSV or JSON file, hashing every byte of it. A CSV file
// may begin and end with a classification banner line (as exports do); both
// are dropped. A file the parser refuses is Invalid, naming the line.
func readFile(src io.Reader, format reconcile.Format, field string) (sourceFile, error) {
	if format != reconcile.FormatCSV && format != reconcile.FormatJSON {
		return sourceFile{}, errs.Field(field, "the format is csv or json", format)
	}
	if src == nil {
		return sourceFile{}, errs.Field("body", "send the file", nil)
	}
	h := sha256.New()
	r := io.TeeReader(src, h)
	var f sourceFile
	if format == reconcile.FormatCSV {
		var stripped bool
		r, stripped = stripBanner(r)
		if stripped {
			f.offset = 1
		}
	}
	t, err := reconcile.Parse(r, format, reconcile.Limits{})
	if err != nil {
		var pe *reconcile.Error
		if errors.As(err, &pe) {
			loc := "body"
			if pe.Line > 0 {
				loc = "row " + strconv.Itoa(pe.Line+f.offset)
			}
			if pe.Column != "" {
				loc += "." + pe.Column
			}
			return f, &errs.Error{Kind: errs.Invalid, Message: "the file cannot be read", Fields: []errs.FieldError{{Location: loc, Message: pe.Message}}}
		}
		return f, fmt.Errorf("read the file: %w", err)
	}
	_, _ = io.Copy(h, r) // anything after the parsed value (nothing, normally)
	f.table, f.sha = t, hex.EncodeToString(h.Sum(nil))
	return f, nil
}

// line is a row's line in the file as the user sees it.
func (f *sourceFile) line(r reconcile.Row) int { return r.Line + f.offset }

// unknownColumns refuses a file with columns known does not accept, naming them all.
func unknownColumns(cols []string, known func(string) bool, hint string) error {
	unknown := reconcile.CheckColumns(cols, known)
	if len(unknown) == 0 {
		return nil
	}
	fe := make([]errs.FieldError, len(unknown))
	for i, c := range unknown {
		fe[i] = errs.FieldError{Location: "columns", Message: "unknown column " + c + "; " + hint, Value: c}
	}
	return &errs.Error{Kind: errs.Invalid, Message: "unknown columns " + strings.Join(unknown, ", ") + "; nothing was read", Fields: fe}
}

// stripBanner drops a classification banner line from the top of a CSV file
// (a single upper-case field such as UNCLASSIFIED, as exports write it) and
// the same line at its end. Other files pass through untouched.
func stripBanner(r io.Reader) (io.Reader, bool) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	i := bytes.IndexByte(head, '\n')
	if i < 0 {
		return br, false
	}
	raw := bytes.TrimRight(head[:i], "\r")
	text := string(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	if len(text) > 1 && text[0] == '"' && text[len(text)-1] == '"' {
		text = strings.ReplaceAll(text[1:len(text)-1], `""`, `"`)
	} else if strings.ContainsAny(text, `,;"`) {
		return br, false
	}
	if !markingPattern.MatchString(text) {
		return br, false
	}
	last := bytes.Clone(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	_, _ = br.Discard(i + 1)
	return &dropLastLine{br: br, match: last}, true
}

// dropLastLine passes lines through, holding each back until the next one
// arrives, and drops the last one when it equals match.
type dropLastLine struct {
	br      *bufio.Reader
	match   []byte
	pending []byte
	out     []byte
	err     error
}

func (d *dropLastLine) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		line, err := d.br.ReadBytes('\n')
		if len(line) > 0 {
			d.out, d.pending = d.pending, line
		}
		if err != nil {
			if err == io.EOF && d.pending != nil {
				if !bytes.Equal(bytes.TrimRight(d.pending, "\r\n"), d.match) {
					d.out = append(d.out, d.pending...)
				}
				d.pending = nil
			}
			d.err = err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// defused reverses the quoting of an exported CSV cell that a spreadsheet
// would have taken for a formula: "'=x" reads as "=x" (see cellText).
func defused(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.IndexByte("=+-@\t\r'", s[1]) >= 0 {
		return s[1:]
	}
	return s
}

// cellText quotes text a spreadsheet would evaluate as a formula (CSV
// injection) with a leading apostrophe; numbers stay as they are. defused
// reverses it, so that an export imports unchanged.
func cellText(s string) string {
	if s == "" || strings.IndexByte("=+-@\t\r'", s[0]) < 0 {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}
