package cmdb

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// Bulk import and export of CIs and relations. An import is all or nothing:
// every row is validated in memory and against the database in batches first;
// if any row is wrong the report lists the errors (up to MaxImportErrors) and
// nothing is written. Otherwise one transaction writes every row with
// multi-row INSERTs, one audit entry and one outbox event for the whole file.
// (A CI import begins that transaction once every row has passed its own
// checks, while the checks across rows still run, and rolls it back if they
// find a problem.)
//
// bulk_parse.go reads a file; bulk_cis.go imports CIs, with bulk_identify.go
// finding the CI a row updates, bulk_cis_check.go checking the rows and
// bulk_cis_write.go writing them through bulk_write.go; bulk_relations.go
// imports relations; bulk_export.go exports both.

// MaxImportErrors is the most row errors a report lists.
const MaxImportErrors = 1000

// MaxReportedUpdates is the most updates a report describes one by one.
const MaxReportedUpdates = 1000

// The fixed columns of a CI file; every other column is an attribute.
var ciFileColumns = []string{"id", "class", "name", "status", "marking", "minUp"}

// RowError is one problem with one row of a file. Line is the CSV line (the
// header is line 1) or the position of the object in a JSON array.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// rowErrors collects row errors up to MaxImportErrors, counting them all.
type rowErrors struct {
	list []RowError
	n    int
}

func (e *rowErrors) add(line int, field, msg string) {
	e.n++
	if len(e.list) < MaxImportErrors {
		e.list = append(e.list, RowError{Line: line, Field: field, Message: msg})
	}
}

// addFields adds field errors whose locations are relative to the row ("body." is dropped).
func (e *rowErrors) addFields(line int, fe []errs.FieldError) {
	for _, f := range fe {
		e.add(line, strings.TrimPrefix(f.Location, "body."), f.Message)
	}
}

// sorted orders the errors by line and field.
func (e *rowErrors) sorted() []RowError {
	slices.SortStableFunc(e.list, func(a, b RowError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Field, b.Field)
	})
	if e.list == nil {
		return []RowError{}
	}
	e.list = e.list[:min(len(e.list), MaxImportErrors)]
	return e.list
}

// merge adds another collector's errors.
func (e *rowErrors) merge(o *rowErrors) {
	e.n += o.n
	e.list = append(e.list, o.list...)
}

// inParallel runs fn over [0, n) in contiguous parts, one per processor,
// each with its own error collector, merged into bad at the end.
func inParallel(n int, bad *rowErrors, fn func(lo, hi int, bad *rowErrors)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/2000))
	parts := make([]rowErrors, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi, &parts[w]) })
	}
	wg.Wait()
	for w := range parts {
		bad.merge(&parts[w])
	}
}

// cellProblem says what makes a cell unstorable: bytes that are not UTF-8,
// or a NUL character.
func cellProblem(v string) string {
	if !utf8.ValidString(v) {
		return "not valid UTF-8 text"
	}
	if strings.IndexByte(v, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}

// asError is the Invalid error naming every listed row error, or nil.
func (e *rowErrors) asError(what string) error {
	if e.n == 0 {
		return nil
	}
	fe := make([]errs.FieldError, 0, len(e.list))
	for _, r := range e.sorted() {
		loc := "row " + strconv.Itoa(r.Line)
		if r.Field != "" {
			loc += "." + r.Field
		}
		fe = append(fe, errs.FieldError{Location: loc, Message: r.Message})
	}
	msg := fmt.Sprintf("%d problems in the file; nothing was %s", e.n, what)
	if e.n > len(e.list) {
		msg += fmt.Sprintf(" (the first %d are listed)", len(e.list))
	}
	return &errs.Error{Kind: errs.Invalid, Message: msg, Fields: fe}
}
