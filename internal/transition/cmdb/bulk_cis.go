package cmdb

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
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
	keys                         [][]string // per rule, the row's key (see key), once identify has it
	newCI                        CI         // the CI to write
	old                          *CI        // the CI before (updates)
	changes                      []audit.Change
	unchanged, indexChanged      bool
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
	if err := s.checkCIRows(ctx, cat, rows, &bad); err != nil {
		return rep, err
	}
	// When every row passes its own checks (and the caller may import what
	// they hold), the rows are written while the checks across rows run; the
	// transaction commits only if those pass too, and any return before that
	// rolls it back. The RACI guard is asked without auditing first, so that
	// a refusal is still audited only for a valid file (unless the caller's
	// roles change in between).
	var w *importWrite
	defer func() { w.abandon() }()
	var refused error
	if !opt.DryRun && bad.n == 0 {
		if news, ups := importSets(rows); s.mayImport(ctx, len(news), len(ups)) {
			if refused = s.authorizeImport(ctx, len(news), len(ups)); refused == nil {
				w = s.startImport(ctx, cat, news, ups, opt.ChangeRef)
			}
		}
	}
	w.awaitCIs()
	if err := s.checkAcrossRows(ctx, cat, rows, rules, &bad); err != nil {
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
	if w == nil {
		if refused != nil {
			return rep, refused
		}
		if err := s.authorizeImport(ctx, rep.Created, rep.Updated); err != nil {
			return rep, err
		}
		if opt.DryRun {
			return rep, nil
		}
		news, ups := importSets(rows)
		w = s.startImport(ctx, cat, news, ups, opt.ChangeRef)
	}
	if err := w.commit(map[string]any{"source": opt.SourceName, "sha256": rep.SHA256, "rows": rep.Rows, "created": rep.Created,
		"updated": rep.Updated, "unchanged": rep.Unchanged, "changeRef": opt.ChangeRef}); err != nil {
		return rep, err
	}
	rep.Applied = true
	return rep, nil
}

// importSets lists the rows that create a CI and those that change one.
func importSets(rows []ciRow) (news, ups []*ciRow) {
	for i := range rows {
		switch r := &rows[i]; {
		case r.bad || r.unchanged:
		case r.id == 0:
			news = append(news, r)
		default:
			ups = append(ups, r)
		}
	}
	return news, ups
}

// importActivities are the activities an import performs with its verbs:
// registering CIs (CfM2) when it creates any or changes none, and changing
// CIs (CfM3) when it changes any.
func importActivities(created, updated int) [][2]string {
	var acts [][2]string
	if created > 0 || updated == 0 {
		acts = append(acts, [2]string{ActIdentify, "import CIs into"})
	}
	if updated > 0 {
		acts = append(acts, [2]string{ActControl, "change CIs by import in"})
	}
	return acts
}

// authorizeImport asks the kernel for each activity of an import; a refusal
// is audited and Forbidden.
func (s *Service) authorizeImport(ctx context.Context, created, updated int) error {
	for _, a := range importActivities(created, updated) {
		if _, err := s.records.Authorize(ctx, Process, a[0], a[1], "cmdb", raci.Scope{}); err != nil {
			return err
		}
	}
	return nil
}

// mayImport tells, without auditing anything, whether the RACI guard lets
// the caller perform each activity of an import.
func (s *Service) mayImport(ctx context.Context, created, updated int) bool {
	for _, a := range importActivities(created, updated) {
		if d, err := s.raci.Decide(ctx, auth.PrincipalFrom(ctx), Process, a[0], raci.Scope{}); err != nil || !d.Allowed {
			return false
		}
	}
	return true
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
