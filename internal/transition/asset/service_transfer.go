package asset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// The import row actions.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
	ActionError     = "error"
)

// AssetImportRow says what an import does, or did, with one row.
type AssetImportRow struct {
	Row    int    `json:"row"`
	Action string `json:"action" enum:"create,update,unchanged,error"`
	// Number is the asset the row updates, or created.
	Number   string `json:"number,omitempty"`
	AssetTag string `json:"assetTag,omitempty"`
	// Changes names the fields an update changes.
	Changes []string `json:"changes,omitempty"`
}

// AssetImportReport is the result of an import or of its dry run.
type AssetImportReport struct {
	DryRun bool `json:"dryRun"`
	// Applied is true when the rows were written; never for a dry run or a file with errors.
	Applied   bool             `json:"applied"`
	Created   int              `json:"created"`
	Updated   int              `json:"updated"`
	Unchanged int              `json:"unchanged"`
	Rows      []AssetImportRow `json:"rows"`
	Errors    []AssetRowError  `json:"errors"`
}

var markingPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 /,()-]{0,63}$`)

// plan is what an import will do with one row.
type plan struct {
	row    importRow
	action string
	target record.Record
	// details are the asset's own fields after the row.
	details Details
	changes []string
}

// rowErrs turns a validation error's fields into row errors.
func rowErrs(row int, err error) []AssetRowError {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return []AssetRowError{{Row: row, Message: "internal error"}}
	}
	if len(e.Fields) == 0 {
		return []AssetRowError{{Row: row, Message: e.Message}}
	}
	out := make([]AssetRowError, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = AssetRowError{Row: row, Field: strings.TrimPrefix(f.Location, "body."), Message: f.Message}
	}
	return out
}

// Import creates and updates assets from CSV or JSON (see parseCSV and
// parseJSON). A row updates the asset its assetTag identifies, else the one
// its serialNumber does (when exactly one has it), else the one its number
// names; otherwise it creates an asset. Every row is checked first (fields,
// users and CIs, tags taken by other assets or by other rows); with any error,
// or in a dry run, nothing is written and the report says what each row would
// do. Creating performs AM2 and updating AM3: the caller needs R or A for the
// ones the file needs. Applying writes row by row, each through the kernel in
// its own transaction; a row that fails then (a concurrent change) is reported.
func (s *Service) Import(ctx context.Context, format string, data []byte, dryRun bool) (rep AssetImportReport, err error) {
	defer errs.Wrap(&err, "import assets")
	rep = AssetImportReport{DryRun: dryRun, Rows: []AssetImportRow{}, Errors: []AssetRowError{}}
	var rows []importRow
	var perr []AssetRowError
	switch format {
	case FormatCSV:
		rows, perr = parseCSV(data)
	case FormatJSON:
		rows, perr = parseJSON(data)
	default:
		return rep, errs.Field("query.format", "csv or json", format)
	}
	rep.Errors = append(rep.Errors, perr...)
	if len(rows) == 0 && len(perr) > 0 {
		return rep, s.importFailed(dryRun, rep)
	}
	plans, perr, err := s.planImport(ctx, rows)
	if err != nil {
		return rep, err
	}
	rep.Errors = append(rep.Errors, perr...)
	failed := map[int]bool{}
	for _, e := range rep.Errors {
		failed[e.Row] = true
	}
	creates, updates := false, false
	for _, p := range plans {
		ir := AssetImportRow{Row: p.row.Row, Action: p.action, Number: p.target.Number, AssetTag: p.details.AssetTag, Changes: p.changes}
		if failed[p.row.Row] {
			ir.Action, ir.Changes = ActionError, nil
		}
		switch ir.Action {
		case ActionCreate:
			rep.Created++
			creates = true
		case ActionUpdate:
			rep.Updated++
			updates = true
		case ActionUnchanged:
			rep.Unchanged++
		}
		rep.Rows = append(rep.Rows, ir)
	}
	for _, need := range []struct {
		yes      bool
		activity string
		verb     string
	}{{creates, ActRecord, "import new assets into"}, {updates, ActMaintain, "update by import"}} {
		if need.yes {
			if _, err := s.records.Authorize(ctx, Process, need.activity, need.verb, "asset/import", raci.Scope{}); err != nil {
				return rep, err
			}
		}
	}
	if dryRun || len(rep.Errors) > 0 {
		return rep, s.importFailed(dryRun, rep)
	}
	for i, p := range plans {
		row := &rep.Rows[i]
		switch p.action {
		case ActionCreate:
			c := p.row.Change
			a, err := s.Create(ctx, NewAsset{Title: deref(c.Title), Description: deref(c.Description), Marking: deref(c.Marking),
				Details: p.details})
			if err != nil {
				row.Action = ActionError
				rep.Created--
				rep.Errors = append(rep.Errors, rowErrs(p.row.Row, err)...)
				continue
			}
			row.Number = a.Number
		case ActionUpdate:
			if _, err := s.amend(ctx, p.target.Number, p.target.Version, p.row.Change); err != nil {
				row.Action = ActionError
				rep.Updated--
				rep.Errors = append(rep.Errors, rowErrs(p.row.Row, err)...)
			}
		}
	}
	rep.Applied = true
	return rep, nil
}

// importFailed is the error of an import that wrote nothing because of its
// errors: none for a dry run, whose report is the answer.
func (s *Service) importFailed(dryRun bool, rep AssetImportReport) error {
	if dryRun || len(rep.Errors) == 0 {
		return nil
	}
	fe := make([]errs.FieldError, 0, len(rep.Errors))
	for _, e := range rep.Errors {
		loc := fmt.Sprintf("rows[%d]", e.Row)
		if e.Field != "" {
			loc += "." + e.Field
		}
		fe = append(fe, errs.FieldError{Location: loc, Message: e.Message})
	}
	return &errs.Error{Kind: errs.Invalid, Fields: fe,
		Message: fmt.Sprintf("nothing was imported: %d problem(s); rows[n] is the line of a CSV file or the position of a JSON item", len(fe))}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// serialOwners lists the assets with a serial number, by number.
func (s *Service) serialOwners(ctx context.Context, serial string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.number FROM assets a JOIN records r ON r.id = a.record_id
		WHERE a.serial_number = ? ORDER BY r.id`, serial)
	if err != nil {
		return nil, fmt.Errorf("look up serial number: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// identify finds the asset a row updates: by asset tag, then serial number, then number; "" creates one.
func (s *Service) identify(ctx context.Context, r importRow) (string, []AssetRowError, error) {
	c := r.Change
	number := ""
	by := ""
	if c.AssetTag != nil && Identifier(*c.AssetTag) != "" {
		if _, n, err := tagOwner(ctx, s.db, Identifier(*c.AssetTag)); err != nil {
			return "", nil, err
		} else if n != "" {
			number, by = n, "assetTag"
		}
	}
	if number == "" && c.SerialNumber != nil && Identifier(*c.SerialNumber) != "" {
		owners, err := s.serialOwners(ctx, Identifier(*c.SerialNumber))
		if err != nil {
			return "", nil, err
		}
		switch len(owners) {
		case 0:
		case 1:
			number, by = owners[0], "serialNumber"
		default:
			return "", []AssetRowError{{Row: r.Row, Field: "serialNumber", Message: "several assets have this serial number (" +
				strings.Join(owners, ", ") + "); identify the asset by its assetTag or number"}}, nil
		}
	}
	if r.Number == "" {
		return number, nil, nil
	}
	given := record.NormalizeNumber(r.Number)
	if number != "" && number != given {
		return "", []AssetRowError{{Row: r.Row, Field: "number", Message: "the " + by + " identifies " + number + ", not " + given}}, nil
	}
	return given, nil, nil
}

// planImport works out, without writing, what each row does, and every problem.
func (s *Service) planImport(ctx context.Context, rows []importRow) ([]plan, []AssetRowError, error) {
	var plans []plan
	var problems []AssetRowError
	targets := map[string]int{} // asset number → row
	tags := map[string]int{}    // tag → row claiming it
	for _, r := range rows {
		p := plan{row: r}
		number, perr, err := s.identify(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		problems = append(problems, perr...)
		fe := checkRecordFields(r.Row, r.Change)
		var old Details
		if number != "" {
			rec, err := s.get(ctx, number)
			switch {
			case errs.Is(err, errs.NotFound):
				problems = append(problems, AssetRowError{Row: r.Row, Field: "number", Message: "no asset " + record.NormalizeNumber(number) +
					"; leave number empty to create an asset"})
			case err != nil:
				return nil, nil, err
			default:
				p.target = rec
				if prev, dup := targets[rec.Number]; dup {
					problems = append(problems, AssetRowError{Row: r.Row, Message: fmt.Sprintf("row %d already updates %s", prev, rec.Number)})
				}
				targets[rec.Number] = r.Row
				if rec.State == Disposed {
					problems = append(problems, AssetRowError{Row: r.Row, Message: rec.Number + " is disposed of; its record is closed"})
				}
				rs, err := loadDetails(ctx, s.db, []int64{rec.ID})
				if err != nil {
					return nil, nil, err
				}
				old = rs[rec.ID].Details
			}
		}
		p.details = r.Change.apply(old)
		normalize(&p.details)
		if err := validateDetails(p.details); err != nil {
			fe = append(fe, rowErrs(r.Row, err)...)
		} else if err := checkRefs(ctx, s.db, p.details, old); err != nil {
			fe = append(fe, rowErrs(r.Row, err)...)
		}
		problems = append(problems, fe...)
		if t := p.details.AssetTag; t != "" && t != old.AssetTag {
			id, owner, err := tagOwner(ctx, s.db, t)
			if err != nil {
				return nil, nil, err
			}
			if id != 0 && id != p.target.ID {
				problems = append(problems, AssetRowError{Row: r.Row, Field: "assetTag", Message: "already the tag of " + owner})
			}
		}
		if t := p.details.AssetTag; t != "" {
			if prev, dup := tags[t]; dup {
				problems = append(problems, AssetRowError{Row: r.Row, Field: "assetTag", Message: fmt.Sprintf("row %d has the same tag", prev)})
			}
			tags[t] = r.Row
		}
		switch {
		case p.target.ID == 0:
			p.action = ActionCreate
		default:
			p.changes = changedFields(p.target, old, p.details, r.Change)
			p.action = ActionUpdate
			if len(p.changes) == 0 {
				p.action = ActionUnchanged
			}
		}
		plans = append(plans, p)
	}
	return plans, problems, nil
}

// checkRecordFields checks the record fields of a row as the kernel will.
func checkRecordFields(row int, c Change) []AssetRowError {
	var out []AssetRowError
	if c.Title != nil && (strings.TrimSpace(*c.Title) == "" || utf8.RuneCountInString(*c.Title) > 200) {
		out = append(out, AssetRowError{Row: row, Field: "title", Message: "a title has 1 to 200 characters"})
	}
	if c.Description != nil && utf8.RuneCountInString(*c.Description) > 32000 {
		out = append(out, AssetRowError{Row: row, Field: "description", Message: "at most 32000 characters"})
	}
	if c.Marking != nil && !markingPattern.MatchString(strings.TrimSpace(*c.Marking)) {
		out = append(out, AssetRowError{Row: row, Field: "marking", Message: "a marking is up to 64 capital letters, digits, spaces and / , ( ) -"})
	}
	return out
}

// changedFields names the fields an update row changes.
func changedFields(r record.Record, old, n Details, c Change) []string {
	var out []string
	for _, f := range []struct {
		name    string
		v       *string
		current string
	}{{"title", c.Title, r.Title}, {"description", c.Description, r.Description}, {"marking", c.Marking, r.Marking}} {
		if f.v != nil && strings.TrimSpace(*f.v) != f.current {
			out = append(out, f.name)
		}
	}
	a, b := detailFields(old), detailFields(n)
	for _, f := range detailAudited {
		if a[f] != b[f] {
			out = append(out, f)
		}
	}
	return out
}

// maxExport bounds an export; a larger one needs a narrower filter.
const maxExport = 100_000

// Export is an export file: its bytes, content type and classification.
type Export struct {
	Body           []byte
	ContentType    string
	Classification string
	Count          int
}

// exportDoc is the JSON export.
type exportDoc struct {
	Classification string    `json:"classification"`
	ExportedAt     time.Time `json:"exportedAt"`
	Count          int       `json:"count"`
	Items          []Asset   `json:"items"`
}

// Export writes every asset matching f as CSV or JSON. Both carry the
// classification banner: CSV as its first and last line, JSON as its
// classification field; each asset also carries its own marking.
func (s *Service) Export(ctx context.Context, f ListFilter, format string) (out Export, err error) {
	defer errs.Wrap(&err, "export assets")
	if format != FormatCSV && format != FormatJSON {
		return out, errs.Field("query.format", "csv or json", format)
	}
	var all []Asset
	p := listing.Params{Limit: listing.MaxLimit, Sort: "number"}
	for {
		page, _, err := s.List(ctx, f, p)
		if err != nil {
			return out, err
		}
		all = append(all, page.Items...)
		if len(all) > maxExport {
			return out, errs.E(errs.TooLarge, "more than %d assets match; narrow the filter", maxExport)
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	if out.Classification, err = s.classification(ctx); err != nil {
		return out, err
	}
	out.Count = len(all)
	var b bytes.Buffer
	if format == FormatCSV {
		out.ContentType = "text/csv; charset=utf-8"
		if err := writeCSV(&b, out.Classification, all); err != nil {
			return out, fmt.Errorf("write CSV: %w", err)
		}
	} else {
		out.ContentType = "application/json"
		if all == nil {
			all = []Asset{}
		}
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(exportDoc{Classification: out.Classification, ExportedAt: s.clock.Now(), Count: len(all), Items: all}); err != nil {
			return out, fmt.Errorf("write JSON: %w", err)
		}
	}
	out.Body = b.Bytes()
	return out, nil
}
