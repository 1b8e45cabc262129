package reconcile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

func parseCSV(br *bufio.Reader, lim Limits) (Table, error) {
	head, comma, err := sniffHeader(br)
	if err != nil {
		return Table{}, err
	}
	cr := csv.NewReader(io.MultiReader(bytes.NewReader(head), br))
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // checked here, to name the line in our own terms

	header, err := cr.Read()
	if err == io.EOF {
		return Table{}, errorf(0, "", "empty file: no header line")
	}
	if err != nil {
		return Table{}, csvError(err)
	}
	if len(header) > lim.MaxColumns {
		return Table{}, errorf(1, "", "%d columns, more than the limit of %d", len(header), lim.MaxColumns)
	}
	cols := newColumnSet()
	for i, h := range header {
		name := strings.TrimSpace(h)
		if name == "" {
			return Table{}, errorf(1, "", "column %d has an empty name", i+1)
		}
		if len(name) > MaxValueBytes {
			return Table{}, errorf(1, "", "column %d has a name longer than %d bytes", i+1, MaxValueBytes)
		}
		if _, isNew, clash := cols.add(name); clash != "" {
			return Table{}, errorf(1, name, "duplicate column name (same as %q apart from letter case)", clash)
		} else if !isNew {
			return Table{}, errorf(1, name, "duplicate column name")
		}
	}
	t := Table{Columns: cols.names}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return Table{}, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(t.Rows) == lim.MaxRows {
			return Table{}, errorf(line, "", "more than %d rows", lim.MaxRows)
		}
		if len(rec) != len(t.Columns) {
			return Table{}, errorf(line, "", "%d fields, but the header has %d columns", len(rec), len(t.Columns))
		}
		fields := make(map[string]string, len(rec))
		for i, v := range rec {
			if len(v) > MaxValueBytes {
				return Table{}, errorf(line, t.Columns[i], "value longer than %d bytes", MaxValueBytes)
			}
			fields[t.Columns[i]] = v
		}
		t.Rows = append(t.Rows, Row{Line: line, Fields: fields})
	}
}

// sniffHeader reads up to the end of the header line (the first line end outside
// quotes after some content; blank lines before it are skipped, as the CSV reader
// skips them) and chooses the delimiter the header uses more: semicolon or, by
// default, comma. It returns the bytes read so that the CSV reader sees them again.
func sniffHeader(br *bufio.Reader) ([]byte, rune, error) {
	var (
		head          []byte
		quoted        bool
		commas, semis int
	)
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		head = append(head, b)
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == ',':
			commas++
		case b == ';':
			semis++
		case b == '\n':
			if len(bytes.TrimSpace(head)) == 0 {
				continue // blank line before the header
			}
			if semis > commas {
				return head, ';', nil
			}
			return head, ',', nil
		}
	}
	if semis > commas {
		return head, ';', nil
	}
	return head, ',', nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, errTooLarge) {
			return pe.Err
		}
		return errorf(pe.StartLine, "", "%v (line %d, byte %d)", pe.Err, pe.Line, pe.Column)
	}
	return err
}
