package cmdb

import (
	"context"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/transition/cmdb/reconcile"
)

// ImportOptions says what to import and how.
type ImportOptions struct {
	Format     reconcile.Format
	Source     io.Reader
	SourceName string
	// DryRun validates and reports what would be created and updated, writing nothing.
	DryRun bool
	// Rules identify an existing CI for a row without an id, in priority
	// order; nil means DefaultRules. A rule's fields are "name" or indexed attributes.
	Rules []reconcile.Rule
	// ChangeRef names the approved change covering the updates; without an
	// approved one each updated CI is flagged as changed without authority.
	ChangeRef string
}

// ImportUpdate describes one CI an import changes.
type ImportUpdate struct {
	Line    int            `json:"line"`
	CIID    int64          `json:"ciId"`
	Changes []audit.Change `json:"changes"`
}

// ImportReport is the outcome of an import or of its dry run.
type ImportReport struct {
	Source string `json:"source,omitempty"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	// Created, Updated and Unchanged count the rows that create a CI, change
	// one, or match one without changing it.
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	DryRun    bool `json:"dryRun"`
	// Applied is true once the import is written.
	Applied bool `json:"applied"`
	// ErrorCount counts every problem; Errors lists the first MaxImportErrors.
	ErrorCount int        `json:"errorCount"`
	Errors     []RowError `json:"errors"`
	// Updates describes the first MaxReportedUpdates changed CIs.
	Updates []ImportUpdate `json:"updates"`
}

// ciRow is one row of a CI file on its way through an import.
type ciRow struct {
	line  int
	id    int64  // the CI the row updates, once known; 0 creates one
	cl    *Class // the class the row names, if any
	class *Class // the class of the CI it creates or updates
	byID  bool   // the row named its CI by id
	rule  string // the rule that identified the CI
	bad   bool
	attrs Attrs

	name, marking                string
	status                       Status
	minUp                        int64
	hasName, hasStatus, hasMinUp bool
	hasMarking                   bool
	refs                         []Ref
	newCI                        CI  // the CI to write
	old                          *CI // the CI before (updates)
	changes                      []audit.Change
	unchanged, indexChanged      bool
	attrsJSON                    string // newCI's attributes, encoded
}

// ImportCIs imports CIs from a CSV or JSON file: each row creates a CI, or
// updates the CI named by its id or found by the identification rules. Rows
// are validated as CreateCI and UpdateCI validate them; a unique value, a
// reference or an identification key is checked in batches. Any problem
// leaves the database untouched and is reported with its line. The import
// registers CIs (CfM2) and changes them (CfM3): the caller needs R or A for
// each activity the file performs.
func (s *Service) ImportCIs(ctx context.Context, opt ImportOptions) (rep ImportReport, err error) {
	defer errs.Wrap(&err, "import CIs")
	rep = ImportReport{Source: opt.SourceName, DryRun: opt.DryRun, Errors: []RowError{}, Updates: []ImportUpdate{}}
	if auth.PrincipalFrom(ctx) == nil {
		return rep, errs.E(errs.Unauthenticated, "sign in to import CIs")
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return rep, err
	}
	rules, err := cat.identRules("rules", opt.Rules)
	if err != nil {
		return rep, err
	}
	file, err := readFile(opt.Source, opt.Format, "format")
	if err != nil {
		return rep, err
	}
	rep.SHA256, rep.Rows = file.sha, len(file.table.Rows)
	if err := unknownColumns(file.table.Columns, func(c string) bool {
		return slices.Contains(ciFileColumns, c) || len(cat.attrsByName[c]) > 0
	}, "the columns are id, class, name, status, marking, minUp and attribute names"); err != nil {
		return rep, err
	}
	var bad rowErrors
	rows := s.readCIRows(cat, &file, opt.Format == reconcile.FormatCSV, &bad)
	file.table.Rows = nil
	if err := s.identify(ctx, rows, rules, &bad); err != nil {
		return rep, err
	}
	if err := s.checkCIRows(ctx, cat, rows, rules, &bad); err != nil {
		return rep, err
	}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.bad:
		case r.id == 0:
			rep.Created++
		case r.unchanged:
			rep.Unchanged++
		default:
			rep.Updated++
			if len(rep.Updates) < MaxReportedUpdates {
				rep.Updates = append(rep.Updates, ImportUpdate{Line: r.line, CIID: r.id, Changes: r.changes})
			}
		}
	}
	rep.ErrorCount, rep.Errors = bad.n, bad.sorted()
	if err := bad.asError("imported"); err != nil {
		rep.Created, rep.Updated, rep.Unchanged = 0, 0, 0
		return rep, err
	}
	if rep.Created > 0 || rep.Updated == 0 {
		if _, err := s.records.Authorize(ctx, Process, ActIdentify, "import CIs into", "cmdb", raci.Scope{}); err != nil {
			return rep, err
		}
	}
	if rep.Updated > 0 {
		if _, err := s.records.Authorize(ctx, Process, ActControl, "change CIs by import in", "cmdb", raci.Scope{}); err != nil {
			return rep, err
		}
	}
	if opt.DryRun {
		return rep, nil
	}
	// The rows were checked against the committed CMDB, outside this
	// transaction. A CI changed since then fails its UPDATE (the version is
	// checked), a unique value taken since then fails the unique index; a CI
	// registered since then under the same identification is not seen.
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		first, last, err := s.writeCreates(ctx, tx, cat, rows, rep.Created)
		if err != nil {
			return err
		}
		if err := s.writeUpdates(ctx, tx, rows, opt.ChangeRef); err != nil {
			return err
		}
		summary := map[string]any{"source": opt.SourceName, "sha256": rep.SHA256, "rows": rep.Rows, "created": rep.Created,
			"updated": rep.Updated, "unchanged": rep.Unchanged, "changeRef": opt.ChangeRef, "firstCreatedId": first, "lastCreatedId": last}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci.import", ObjectType: "ci", ObjectID: "cmdb",
			Changes: audit.Diff(slices.Sorted(maps.Keys(summary)), map[string]any{}, summary)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.imported", Subject: "cmdb", Data: summary})
	})
	if err != nil {
		return rep, err
	}
	rep.Applied = true
	return rep, nil
}

// readCIRows reads the rows' fields: the class (normalising the attributes
// against it), the core fields and the id.
func (s *Service) readCIRows(cat *catalog, f *sourceFile, isCSV bool, bad *rowErrors) []ciRow {
	var attrCols []string
	for _, c := range f.table.Columns {
		if !slices.Contains(ciFileColumns, c) {
			attrCols = append(attrCols, c)
		}
	}
	rows := make([]ciRow, len(f.table.Rows))
	inParallel(len(rows), bad, func(lo, hi int, bad *rowErrors) {
		for i := lo; i < hi; i++ {
			s.readCIRow(cat, &rows[i], f.table.Rows[i], f.offset, attrCols, isCSV, bad)
		}
	})
	return rows
}

// readCIRow reads one row.
func (s *Service) readCIRow(cat *catalog, r *ciRow, tr reconcile.Row, offset int, attrCols []string, isCSV bool, bad *rowErrors) {
	r.line = tr.Line + offset
	for col, v := range tr.Fields {
		if msg := cellProblem(v); msg != "" {
			bad.add(r.line, col, msg)
			r.bad = true
		}
	}
	if r.bad {
		return
	}
	get := func(col string) string {
		v := tr.Fields[col]
		if isCSV {
			v = defused(v)
		}
		return v
	}
	fail := func(field, msg string) {
		bad.add(r.line, field, msg)
		r.bad = true
	}
	if v := strings.TrimSpace(get("id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			fail("id", "expected the id of a CI")
		}
		r.id, r.byID = id, true
	}
	if v := strings.TrimSpace(get("class")); v != "" {
		if r.cl = cat.byName[v]; r.cl == nil {
			fail("class", "unknown CI class "+v)
		}
	} else if !r.byID {
		fail("class", "a row without an id names the class of its CI")
	}
	if v := get("name"); strings.TrimSpace(v) != "" {
		r.name, r.hasName = v, true
	}
	if v := strings.TrimSpace(get("status")); v != "" {
		r.status, r.hasStatus = Status(v), true
	}
	if v := strings.TrimSpace(get("marking")); v != "" {
		r.marking, r.hasMarking = v, true
	}
	if v := strings.TrimSpace(get("minUp")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fail("minUp", "expected an integer")
		}
		r.minUp, r.hasMinUp = n, true
	}
	r.attrs = Attrs{}
	for _, c := range attrCols {
		if v := get(c); strings.TrimSpace(v) != "" {
			r.attrs[c] = v
		}
	}
	if r.cl != nil {
		refs, fe := CheckAttrs(r.cl, r.attrs, "attributes", true)
		if len(fe) > 0 {
			bad.addFields(r.line, fe)
			r.bad = true
		}
		r.refs = refs
	}
}
