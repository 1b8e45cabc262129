package reconcile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format names the encoding of a bulk file.
type Format string

// The formats Parse understands.
const (
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
)

// MaxValueBytes is the largest single value, in bytes, a file may hold.
const MaxValueBytes = 64 << 10

// DefaultLimits are the limits Parse applies where a Limits field is zero or negative.
var DefaultLimits = Limits{MaxRows: 1_000_000, MaxColumns: 256, MaxBytes: 256 << 20}

// Limits bound what Parse accepts; a zero or negative field takes its value from DefaultLimits.
type Limits struct {
	MaxRows    int   // data rows (CSV records after the header, JSON array elements)
	MaxColumns int   // columns in the file, and so cells in any row
	MaxBytes   int64 // size of the whole file, byte order mark included
}

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultLimits.MaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultLimits.MaxColumns
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	return l
}

// Row is one data record of a file.
//
// Line is the 1-based position of the record: for CSV the physical line on which the
// record starts, counting the header as line 1 (so the first data row is normally 2);
// for JSON the 1-based index of the object in the array. A column whose JSON value
// is null, or that an object leaves out, is absent from Fields, so Fields[col] reads
// as "" while the two-value lookup reports it missing. CSV rows hold every column.
type Row struct {
	Line   int
	Fields map[string]string
}

// Table is the content of a parsed file.
type Table struct {
	Columns []string // trimmed column names in file order (JSON: union of keys in first-seen order)
	Rows    []Row
}

// Error describes why a file was refused; Line 0 means the file as a whole and an
// empty Column means the row (or file) as a whole.
type Error struct {
	Line    int    // 1-based row position as in Row.Line
	Column  string // column name, when the problem lies in one column
	Message string
}

// Error formats the position followed by the message.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Message)
	return b.String()
}

func errorf(line int, column, format string, args ...any) *Error {
	return &Error{Line: line, Column: column, Message: fmt.Sprintf(format, args...)}
}

// Parse reads a whole CSV or JSON file into a Table within lim, returning the first
// fatal problem as an *Error.
//
// Either format may start with a UTF-8 byte order mark, which is dropped. CSV: a
// header line whose delimiter (comma or semicolon, whichever occurs more often
// outside quotes) applies to the whole file, RFC 4180 quoting, LF or CRLF line ends;
// blank lines are skipped and every other record must have as many fields as the
// header. JSON: an array of flat objects, or an object whose "items" member is
// such an array (other members are ignored); strings are kept as they are, numbers in
// their JSON text form, booleans as "true"/"false", and null marks the column absent.
// Column names are trimmed, must be non-empty and must not repeat, letter case
// ignored; values are not trimmed and may be up to MaxValueBytes long.
func Parse(r io.Reader, f Format, lim Limits) (Table, error) {
	lim = lim.withDefaults()
	if f != FormatCSV && f != FormatJSON {
		return Table{}, errorf(0, "", "unknown format %q (want %q or %q)", f, FormatCSV, FormatJSON)
	}
	cr := &capReader{r: r, left: lim.MaxBytes}
	br := bufio.NewReaderSize(cr, 64<<10)
	if b, err := br.Peek(len(bom)); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(len(bom))
	}
	var (
		t   Table
		err error
	)
	if f == FormatCSV {
		t, err = parseCSV(br, lim)
	} else {
		t, err = parseJSON(br, lim)
	}
	if cr.exceeded {
		return Table{}, errorf(0, "", "file is larger than %d bytes", lim.MaxBytes)
	}
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			pe = errorf(0, "", "%v", err)
		}
		return Table{}, pe
	}
	return t, nil
}

// columnSet registers column names in first-seen order, refusing names that differ
// from an earlier one only in letter case.
type columnSet struct {
	byFold map[string]int // lower-cased name → index in names
	names  []string
}

func newColumnSet() *columnSet { return &columnSet{byFold: make(map[string]int)} }

// add returns the index of name's column and whether it is new; clash is the earlier
// spelling when name differs from it only in letter case (idx is then -1).
func (s *columnSet) add(name string) (idx int, isNew bool, clash string) {
	key := strings.ToLower(name)
	if i, ok := s.byFold[key]; ok {
		if s.names[i] != name {
			return -1, false, s.names[i]
		}
		return i, false, ""
	}
	s.byFold[key] = len(s.names)
	s.names = append(s.names, name)
	return len(s.names) - 1, true, ""
}

// CheckColumns returns, sorted, the columns that known does not accept, so that a
// caller can refuse a file before applying any of it; it returns nil when all are known.
func CheckColumns(cols []string, known func(string) bool) []string {
	var unknown []string
	for _, c := range cols {
		if !known(c) {
			unknown = append(unknown, c)
		}
	}
	slices.Sort(unknown)
	return slices.Compact(unknown)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

var errTooLarge = errors.New("file too large")

// capReader passes through at most left bytes and records whether the source held more.
type capReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.exceeded {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left+1] // one byte more than allowed shows whether the source holds more
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		c.exceeded = true
		n = int(c.left)
		c.left = 0
		return n, errTooLarge
	}
	c.left -= int64(n)
	return n, err
}
