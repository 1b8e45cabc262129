package servicenow

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// lookahead is how many rows Parse holds back, while no date has yet shown whether the
// file writes its dates day first or month first, before it settles on day first.
const lookahead = 10_000

// Parse reads a ServiceNow incident export (CSV with a header row).
//
// The export has one row per state change; the incident is its number's last row, in the
// order of sys_mod_count, then sys_updated_at, then the file. Rows whose state is "-100"
// (the event log's "no state") count but are never taken as the last state. A malformed
// row (wrong number of fields, bad CSV quoting, an empty number, a value that cannot be
// read, a field over MaxFieldBytes) is skipped with its line and reason, and so is an
// incident whose last state is unknown; the rest still loads. Parse fails only on what
// stops it reading the file at all: no header, a missing required column, more than
// MaxRows rows, a record over MaxRecordBytes, or a read error.
func Parse(r io.Reader, opt Options) ([]Incident, Report, error) {
	p := &parser{opt: opt, loc: opt.Location, maxRows: opt.MaxRows, groups: map[string]*group{}}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.maxRows <= 0 || p.maxRows > MaxRows {
		p.maxRows = MaxRows
	}
	switch opt.DateOrder {
	case DateOrderAuto:
	case DayFirst, MonthFirst:
		p.order = opt.DateOrder
	default:
		return nil, Report{}, errs.E(errs.Invalid, "unknown date order %q (want %q or %q)", opt.DateOrder, DayFirst, MonthFirst)
	}
	if err := p.read(r); err != nil {
		return nil, p.report, err
	}
	incidents := p.finish()
	p.report.Incidents = len(incidents)
	p.report.DateOrder = p.order
	if p.report.Skipped == nil {
		p.report.Skipped = []Skip{}
	}
	return incidents, p.report, nil
}

// parser holds Parse's state while it reads one file.
type parser struct {
	opt     Options
	loc     *time.Location
	maxRows int
	cols    *layout
	order   DateOrder // DateOrderAuto until decided
	pending []pendingRow
	groups  map[string]*group
	seq     []*group // groups in the order their numbers first appear
	report  Report

	lastDate [numColumns]lastDate // the last date read in each column
}

// lastDate is a date column's last value and what it was read as.
type lastDate struct {
	raw string
	t   time.Time
	ok  bool
}

// pendingRow is a row held back until the file's date order is known.
type pendingRow struct {
	line   int
	record []string
}

// group gathers the rows of one incident number.
type group struct {
	number      string
	rows        int
	best        *candidate // the last row with a state other than "-100"
	noStateLine int        // line of the last "-100" row, for the report
}

// candidate is one row read into an incident, with what orders it among its number's rows.
// The values derived from it (state, channel, taxonomy keys) are filled in only for the
// row that ends up last, by derive.
type candidate struct {
	inc       Incident
	hasActive bool      // the row has a value for active
	mod       int       // sys_mod_count, or -1 when absent
	updated   time.Time // sys_updated_at
	line      int
}

// after reports whether c comes after (or is) the same point as d in the incident's history.
func (c *candidate) after(d *candidate) bool {
	if c.mod != d.mod {
		return c.mod > d.mod
	}
	if !c.updated.Equal(d.updated) {
		return c.updated.After(d.updated)
	}
	return c.line >= d.line
}

// read runs through the file: header, then every row.
func (p *parser) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	comma := p.opt.Comma
	if comma == 0 {
		comma = sniffComma(br)
	}
	if comma == '"' || comma == '\r' || comma == '\n' || comma == utf8.RuneError || !utf8.ValidRune(comma) {
		return errs.E(errs.Invalid, "the field separator %q cannot be used", comma)
	}
	g := &guard{r: br, rows: &p.report.Rows}
	cr := csv.NewReader(g)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // counted here, to skip the row rather than stop

	header, err := cr.Read()
	if g.err != nil {
		return g.err
	}
	g.start = cr.InputOffset()
	if err == io.EOF {
		return errs.E(errs.Invalid, "empty file: no header row")
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return errs.E(errs.Invalid, "header (line %d): malformed CSV: %v", pe.StartLine, pe.Err)
		}
		return fmt.Errorf("reading the header: %w", err)
	}
	if p.cols, err = newLayout(header); err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if g.err != nil {
			return g.err
		}
		g.start = cr.InputOffset()
		if err == io.EOF {
			break
		}
		p.report.Rows++
		if p.report.Rows > p.maxRows {
			return errs.E(errs.TooLarge, "the file has more than %d rows", p.maxRows)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.skipRow(pe.StartLine, "", "malformed CSV: "+pe.Err.Error())
				continue
			}
			return fmt.Errorf("reading row %d: %w", p.report.Rows, err)
		}
		line, _ := cr.FieldPos(0)
		if p.order != DateOrderAuto {
			p.row(line, rec)
			continue
		}
		if o := p.evidence(rec); o != DateOrderAuto {
			p.decide(o)
			p.row(line, rec)
			continue
		}
		p.pending = append(p.pending, pendingRow{line: line, record: rec})
		if len(p.pending) >= lookahead {
			p.decide(DayFirst)
		}
	}
	if p.order == DateOrderAuto {
		p.decide(DayFirst)
	}
	return nil
}

// evidence looks through a row's dates for one that shows the file's date order.
func (p *parser) evidence(rec []string) DateOrder {
	if len(rec) != p.cols.width {
		return DateOrderAuto
	}
	for _, c := range dateColumns {
		if p.cols.has(c) {
			if o := dateEvidence(rec[p.cols.at[c]]); o != DateOrderAuto {
				return o
			}
		}
	}
	return DateOrderAuto
}

// decide settles the date order and reads the rows held back.
func (p *parser) decide(o DateOrder) {
	p.order = o
	for _, pr := range p.pending {
		p.row(pr.line, pr.record)
	}
	p.pending = nil
}

// row maps one data row and files it under its number, or skips it with the reason.
func (p *parser) row(line int, rec []string) {
	number := "" // for the report, when it can be shown
	if at := p.cols.at[colNumber]; at < len(rec) {
		if n, err := cleanText(rec[at]); err == nil && len(n) <= MaxNumberBytes && !strings.ContainsFunc(n, isControl) {
			number = n
		}
	}
	if len(rec) != p.cols.width {
		p.skipRow(line, number, fmt.Sprintf("%d fields, but the header has %d columns", len(rec), p.cols.width))
		return
	}
	for i, v := range rec {
		if len(v) > MaxFieldBytes {
			p.skipRow(line, number, fmt.Sprintf("column %s is longer than %d bytes", p.cols.nameAt(i), MaxFieldBytes))
			return
		}
	}
	c, err := p.mapRow(rec)
	if err != nil {
		p.skipRow(line, number, err.Error())
		return
	}
	c.line, c.inc.Line = line, line
	g := p.groups[c.inc.Number]
	if g == nil {
		g = &group{number: c.inc.Number}
		p.groups[g.number] = g
		p.seq = append(p.seq, g)
	}
	g.rows++
	if fold(c.inc.SourceState) == noStateValue {
		g.noStateLine = line
		return
	}
	if g.best == nil || c.after(g.best) {
		g.best = c
	}
}

// finish turns each number's last row into an incident, or a skip when its state is unknown.
func (p *parser) finish() []Incident {
	out := make([]Incident, 0, len(p.seq))
	for _, g := range p.seq {
		switch {
		case g.best == nil:
			p.skipIncident(g.noStateLine, g.number, fmt.Sprintf("no row with a known state: all %d rows have state %s, the event log's \"no state\"", g.rows, noStateValue))
		default:
			inc, ok := derive(g.best)
			if !ok {
				p.skipIncident(g.best.line, g.number, fmt.Sprintf("unknown state %q in its last row", g.best.inc.SourceState))
				continue
			}
			inc.Rows = g.rows
			out = append(out, inc)
		}
	}
	return out
}

// skipRow records a malformed row.
func (p *parser) skipRow(line int, number, reason string) {
	p.report.SkippedRows++
	p.addSkip(Skip{Line: line, Number: number, Reason: reason})
}

// skipIncident records an incident left out.
func (p *parser) skipIncident(line int, number, reason string) {
	p.report.SkippedIncidents++
	p.addSkip(Skip{Line: line, Number: number, Reason: reason})
}

// addSkip lists a skip while the list is under MaxSkips.
func (p *parser) addSkip(s Skip) {
	if len(p.report.Skipped) < MaxSkips {
		p.report.Skipped = append(p.report.Skipped, s)
	}
}

// mapRow reads one well-formed row into a candidate incident; the error names the column
// whose value could not be read.
func (p *parser) mapRow(rec []string) (*candidate, error) {
	var (
		c   = &candidate{mod: -1}
		in  = &c.inc
		err error
	)
	get := func(col column) string {
		if at := p.cols.at[col]; at >= 0 {
			return rec[at]
		}
		return ""
	}
	text := func(col column, dst *string) {
		if err != nil {
			return
		}
		if *dst, err = cleanText(get(col)); err != nil {
			err = fmt.Errorf("column %s %w", col.name(), err)
		}
	}
	date := func(col column, dst *time.Time) {
		if err != nil {
			return
		}
		raw := get(col)
		if last := &p.lastDate[col]; last.ok && last.raw == raw {
			*dst = last.t // rows of one incident repeat most dates
			return
		}
		if *dst, err = parseTime(raw, p.loc, p.order); err != nil {
			err = fmt.Errorf("column %s: %w", col.name(), err)
			return
		}
		p.lastDate[col] = lastDate{raw: raw, t: *dst, ok: true}
	}
	count := func(col column, dst *int) (present bool) {
		if err != nil {
			return false
		}
		if *dst, present, err = parseCount(get(col)); err != nil {
			err = fmt.Errorf("column %s: %w", col.name(), err)
		}
		return present
	}
	level := func(col column, sc scale, dst *int) {
		if err != nil {
			return
		}
		if *dst, err = parseLevel(get(col), sc); err != nil {
			err = fmt.Errorf("column %s: %w", col.name(), err)
		}
	}
	boolean := func(col column) (v, present bool) {
		if err != nil {
			return false, false
		}
		if v, present, err = parseBool(get(col)); err != nil {
			err = fmt.Errorf("column %s: %w", col.name(), err)
		}
		return v, present
	}

	text(colNumber, &in.Number)
	if err == nil && in.Number == "" {
		return nil, errors.New("empty number")
	}
	if err == nil && (len(in.Number) > MaxNumberBytes || strings.ContainsFunc(in.Number, isSpaceOrControl)) {
		return nil, fmt.Errorf("malformed number %q", shorten(in.Number))
	}
	text(colState, &in.SourceState)
	if err == nil && in.SourceState == "" {
		return nil, errors.New("empty incident_state")
	}
	if has := count(colModCount, &in.ModCount); has {
		c.mod = in.ModCount
	}
	date(colUpdatedAt, &in.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if c.mod < 0 && !p.cols.has(colUpdatedAt) {
		return nil, errors.New("empty sys_mod_count, and no sys_updated_at to order the rows by")
	}
	if in.UpdatedAt.IsZero() && !p.cols.has(colModCount) {
		return nil, errors.New("empty sys_updated_at, and no sys_mod_count to order the rows by")
	}
	c.updated = in.UpdatedAt

	count(colReassignmentCount, &in.ReassignmentCount)
	count(colReopenCount, &in.ReopenCount)
	if v, present := boolean(colMadeSLA); present {
		in.MadeSLA = &v
	}
	in.Active, c.hasActive = boolean(colActive)
	level(colImpact, levelScale, &in.Impact)
	level(colUrgency, levelScale, &in.Urgency)
	level(colPriority, priorityScale, &in.Priority)
	date(colOpenedAt, &in.OpenedAt)
	date(colCreatedAt, &in.CreatedAt)
	date(colResolvedAt, &in.ResolvedAt)
	date(colClosedAt, &in.ClosedAt)
	text(colCaller, &in.Caller)
	text(colOpenedBy, &in.OpenedBy)
	text(colCreatedBy, &in.CreatedBy)
	text(colUpdatedBy, &in.UpdatedBy)
	text(colContactType, &in.SourceChannel)
	text(colLocation, &in.Location)
	text(colCategory, &in.CategoryLabel)
	text(colSubcategory, &in.SubcategoryLabel)
	text(colSymptom, &in.SymptomLabel)
	text(colCI, &in.CI)
	text(colAssignmentGroup, &in.AssignmentGroup)
	text(colAssignedTo, &in.AssignedTo)
	text(colProblemID, &in.ProblemID)
	text(colRFC, &in.RFC)
	text(colVendor, &in.Vendor)
	text(colCausedBy, &in.CausedBy)
	text(colClosedCode, &in.ClosedCode)
	text(colResolvedBy, &in.ResolvedBy)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// derive fills in what an incident's last row maps to in Steward's vocabulary: the
// state, active when the file does not say, the channel and the taxonomy keys. ok is
// false when the state is unknown.
func derive(c *candidate) (Incident, bool) {
	in := c.inc
	state, _, known := mapState(in.SourceState)
	if !known {
		return Incident{}, false
	}
	in.State = state
	if !c.hasActive {
		in.Active = state != StateClosed && state != StateCancelled
	}
	in.Channel = mapChannel(in.SourceChannel)
	in.Category = taxonomyKey(in.CategoryLabel)
	in.Subcategory = taxonomyKey(in.SubcategoryLabel)
	in.Symptom = taxonomyKey(in.SymptomLabel)
	return in, true
}

// isSpaceOrControl reports whether r has no place in an incident number.
func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// isControl reports whether r is an ASCII control character.
func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// shorten cuts a value to quote in a message.
func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// sniffComma picks the field separator the header line uses most: ',' (also when none
// shows), ';' or tab. It peeks without consuming.
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, n := ',', bytes.Count(head, []byte{','})
	for _, c := range []byte{';', '\t'} {
		if k := bytes.Count(head, []byte{c}); k > n {
			best, n = rune(c), k
		}
	}
	return best
}

// guard stops the CSV reader when one record grows past MaxRecordBytes (an unclosed
// quote, a file with no line ends), so that a bad file cannot fill memory.
type guard struct {
	r     io.Reader
	rows  *int  // data rows read so far, for the message
	start int64 // input offset where the record under way starts
	read  int64 // bytes handed to the CSV reader
	err   error
}

// csvBuffer is the most the CSV reader reads ahead of the record it parses (its bufio size).
const csvBuffer = 4096

// Read passes reads through until the record under way is too long, then fails for good.
func (g *guard) Read(b []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.read-g.start > MaxRecordBytes+csvBuffer {
		g.err = errs.E(errs.TooLarge, "the CSV record after data row %d is longer than %d bytes (an unclosed quote?)", *g.rows, MaxRecordBytes)
		return 0, g.err
	}
	n, err := g.r.Read(b)
	g.read += int64(n)
	return n, err
}
