package incident

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/internal/operation/incident/servicenow"
	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// ImportBatch is how many incidents one import transaction writes.
const ImportBatch = 500

// importStates are the states an imported incident may be in.
var importStates = []string{StateNew, StateInProgress, StateOnHold, StateResolved, StateClosed, StateCancelled}

// imported is a ServiceNow incident mapped to Steward's fields.
type imported struct {
	Ref           string `json:"ref"`
	Title         string `json:"title"`
	Description   string `json:"description"`
	State         string `json:"state"`
	Priority      int    `json:"priority"`
	Reassignments int64  `json:"reassignments"`
	CreatedAt     int64  `json:"createdAt"`
	UpdatedAt     int64  `json:"updatedAt"`
	Row           row    `json:"row"`
	CategoryLabel string `json:"categoryLabel"`
	SubLabel      string `json:"subcategoryLabel"`
}

// hash fingerprints what an import writes, so that a second import of the
// same data changes nothing.
func (m imported) hash() string {
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// holdReasonOf maps ServiceNow's awaiting states to a hold reason.
func holdReasonOf(source string) string {
	s := strings.ToLower(source)
	switch {
	case strings.Contains(s, "vendor"), strings.Contains(s, "supplier"):
		return "awaiting_supplier"
	case strings.Contains(s, "problem"), strings.Contains(s, "change"):
		return "awaiting_change"
	}
	return "awaiting_caller"
}

// codeKey turns a source closure code ("code 5") into a resolution-code key ("code-5").
func codeKey(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}

func orLabel(label, key string) string {
	if strings.TrimSpace(label) != "" {
		return strings.TrimSpace(label)
	}
	return key
}

// mapServiceNow maps one ServiceNow incident to Steward's fields: our
// priority is recomputed from impact × urgency through the matrix and theirs
// kept; an absent impact or urgency reads as the middle of the matrix; the
// security categories put it on the security path (an import never declares
// major incidents: they are history). An incident that cannot be mapped is an error saying why.
func mapServiceNow(st IncidentSettings, in servicenow.Incident) (imported, error) {
	var m imported
	m.Ref = strings.TrimSpace(in.Number)
	if m.Ref == "" || len(m.Ref) > 64 {
		return m, fmt.Errorf("no usable number")
	}
	if !slices.Contains(importStates, in.State) {
		return m, fmt.Errorf("state %q (%s) is not one of %s", in.State, in.SourceState, strings.Join(importStates, ", "))
	}
	mid := func(v, n int) int {
		if v == 0 {
			return (n + 1) / 2
		}
		return v
	}
	cols := 0
	if len(st.Matrix) > 0 {
		cols = len(st.Matrix[0])
	}
	impact, urgency := mid(in.Impact, len(st.Matrix)), mid(in.Urgency, cols)
	prio, err := Priority(st.Matrix, impact, urgency)
	if err != nil {
		return m, fmt.Errorf("impact %d × urgency %d is outside the priority matrix", impact, urgency)
	}
	cat, sub := in.Category, in.Subcategory
	if !ValidKey(cat) {
		cat, sub = "", ""
	}
	if !ValidKey(sub) {
		sub = ""
	}
	channel := in.Channel
	if !slices.Contains(Channels, channel) {
		channel = "import"
	}
	opened := in.OpenedAt
	if opened.IsZero() {
		opened = in.CreatedAt
	}
	updated := in.UpdatedAt
	if updated.IsZero() {
		updated = opened
	}
	if opened.IsZero() {
		return m, fmt.Errorf("no opening time")
	}
	m.State, m.Priority, m.Reassignments = in.State, prio, int64(max(in.ReassignmentCount, 0))
	m.CreatedAt, m.UpdatedAt = opened.UnixMilli(), updated.UnixMilli()
	m.CategoryLabel, m.SubLabel = orLabel(in.CategoryLabel, cat), orLabel(in.SubcategoryLabel, sub)
	title := "Incident " + m.Ref
	if cat != "" {
		title = m.CategoryLabel
		if sub != "" {
			title += " / " + m.SubLabel
		}
		title += " (" + m.Ref + ")"
	}
	m.Title = title
	var desc []string
	desc = append(desc, "Imported from ServiceNow "+m.Ref+".")
	for _, l := range [][2]string{{"Symptom", in.Symptom}, {"Location", in.Location}, {"CI", in.CI}, {"Opened by", in.OpenedBy}} {
		if strings.TrimSpace(l[1]) != "" {
			desc = append(desc, l[0]+": "+strings.TrimSpace(l[1]))
		}
	}
	m.Description = strings.Join(desc, "\n")
	path := PathNormal
	if st.isSecurity(cat) {
		path = PathSecurity
	}
	data, _ := json.Marshal(map[string]any{"sourceState": in.SourceState, "openedBy": in.OpenedBy, "resolvedBy": in.ResolvedBy,
		"location": in.Location, "ci": in.CI, "symptom": in.Symptom, "closedCode": in.ClosedCode, "problemId": in.ProblemID,
		"rfc": in.RFC, "vendor": in.Vendor, "causedBy": in.CausedBy, "modCount": in.ModCount, "rows": in.Rows, "line": in.Line})
	w := row{Category: cat, Subcategory: sub, LoggedCategory: cat, LoggedSubcategory: sub, Channel: channel, Impact: impact,
		Urgency: urgency, Path: path, ReopenCount: max(in.ReopenCount, 0), ExternalRef: m.Ref, ExternalCaller: in.Caller,
		ExternalGroup: in.AssignmentGroup, ExternalAssignee: in.AssignedTo, ExternalPriority: in.Priority, ExternalData: string(data),
		MadeSLA: in.MadeSLA}
	at := func(t time.Time) int64 {
		if t.IsZero() {
			return m.UpdatedAt
		}
		return t.UnixMilli()
	}
	switch in.State {
	case StateOnHold:
		w.HoldReason, w.HeldAt = holdReasonOf(in.SourceState), m.UpdatedAt
	case StateResolved, StateClosed:
		w.ResolvedAt = at(in.ResolvedAt)
		w.ResolutionCode = codeKey(in.ClosedCode)
		w.ResolutionNotes = "Resolved in ServiceNow"
		if in.ResolvedBy != "" {
			w.ResolutionNotes += " by " + in.ResolvedBy
		}
		w.ResolutionNotes += "."
		if in.State == StateClosed {
			w.ClosedAt = at(in.ClosedAt)
			w.CategoryReviewed = true
		}
	case StateCancelled:
		w.ClosedAt = at(in.ClosedAt)
	}
	m.Row = w
	return m, nil
}

// existing is an incident imported before.
type existing struct {
	id      int64
	number  string
	state   string
	hash    string
	version int64
}

// ImportServiceNow loads incidents from a ServiceNow export (parsed by
// package servicenow), in transactions of ImportBatch incidents. It is
// idempotent by the source's number (kept as the external reference): an
// incident imported before is updated only when the export says something
// new, and never duplicated. Missing category and subcategory keys are added
// to the taxonomy with their labels. Importing logs incidents on behalf of
// others: it takes R or A for IM2.
func (s *Service) ImportServiceNow(ctx context.Context, in []servicenow.Incident) (out ImportResult, err error) {
	defer errs.Wrap(&err, "import ServiceNow incidents")
	ctx = begin(ctx)
	out.Skipped = []IncidentImportSkip{}
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActLog, "import incidents", "incident/import", raci.Scope{}); err != nil {
		return out, err
	}
	st, err := s.settings(ctx)
	if err != nil {
		return out, err
	}
	// The last of a number wins, in the order of the export.
	byRef := map[string]int{}
	var list []imported
	for _, inc := range in {
		m, err := mapServiceNow(st, inc)
		if err != nil {
			out.Skipped = append(out.Skipped, IncidentImportSkip{Number: inc.Number, Reason: err.Error()})
			continue
		}
		m.Row.ImportHash = m.hash()
		if i, ok := byRef[m.Ref]; ok {
			list[i] = m
			continue
		}
		byRef[m.Ref] = len(list)
		list = append(list, m)
	}
	if out.CategoriesAdded, err = s.importTaxonomy(ctx, list); err != nil {
		return out, err
	}
	for _, batch := range chunks(list, ImportBatch) {
		var c, u, n int
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			var err error
			c, u, n, err = s.importBatch(ctx, tx, p.UserID, batch)
			return err
		})
		if err != nil {
			return out, err
		}
		out.Created, out.Updated, out.Unchanged = out.Created+c, out.Updated+u, out.Unchanged+n
	}
	return out, nil
}

// importTaxonomy adds the category and subcategory keys the incidents name
// and the taxonomy lacks, in one transaction; it returns how many it added.
func (s *Service) importTaxonomy(ctx context.Context, list []imported) (int, error) {
	type entry struct{ parent, key, label string }
	seen := map[[2]string]bool{}
	var entries []entry
	for _, m := range list {
		if m.Row.Category == "" {
			continue
		}
		if k := [2]string{"", m.Row.Category}; !seen[k] {
			seen[k] = true
			entries = append(entries, entry{"", m.Row.Category, m.CategoryLabel})
		}
		if m.Row.Subcategory == "" {
			continue
		}
		if k := [2]string{m.Row.Category, m.Row.Subcategory}; !seen[k] {
			seen[k] = true
			entries = append(entries, entry{m.Row.Category, m.Row.Subcategory, m.SubLabel})
		}
	}
	added := 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		var keys []string
		for _, e := range entries {
			res, err := tx.ExecContext(ctx, `INSERT INTO incident_categories (cat_key, parent_key, label, description, active, position,
				created_at, updated_at) VALUES (?, ?, ?, 'Imported from ServiceNow.', TRUE, 1000, ?, ?) ON CONFLICT (parent_key, cat_key) DO NOTHING`,
				e.key, e.parent, truncate(e.label, 200), now, now)
			if err != nil {
				return fmt.Errorf("add category %s: %w", e.key, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
				keys = append(keys, strings.TrimPrefix(e.parent+"/"+e.key, "/"))
			}
		}
		if len(keys) == 0 {
			return nil
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.category.import", ObjectType: "incident_category", ObjectID: "import",
			Changes: []audit.Change{{Field: "added", New: keys}}})
		return nil
	})
	return added, err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// importBatch writes one batch of imported incidents in tx: new ones through
// the kernel (numbered, journalled, indexed, audited, announced) and then
// backdated to their opening; known ones updated where the export changed.
func (s *Service) importBatch(ctx context.Context, tx *db.Tx, importer int64, batch []imported) (created, updated, unchanged int, err error) {
	refs := make([]string, len(batch))
	for i, m := range batch {
		refs[i] = m.Ref
	}
	known, err := loadImported(ctx, tx, refs)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, m := range batch {
		ex, ok := known[m.Ref]
		switch {
		case ok && ex.hash == m.Row.ImportHash:
			unchanged++
		case ok:
			if err := s.updateImported(ctx, tx, ex, m); err != nil {
				return 0, 0, 0, err
			}
			updated++
		default:
			if err := s.createImported(ctx, tx, importer, m); err != nil {
				return 0, 0, 0, err
			}
			created++
		}
	}
	if created+updated > 0 {
		err = s.events.Emit(ctx, tx, outbox.Event{Type: "incident.imported", Subject: "incident/import", Data: map[string]any{
			"source": "servicenow", "created": created, "updated": updated, "unchanged": unchanged}})
	}
	return created, updated, unchanged, err
}

// loadImported reads the incidents imported before under refs.
func loadImported(ctx context.Context, tx *db.Tx, refs []string) (map[string]existing, error) {
	out := map[string]existing{}
	list, args := db.In(refs)
	rows, err := tx.QueryContext(ctx, `SELECT i.external_ref, r.id, r.number, r.state, i.import_hash, r.version
		FROM incidents i JOIN records r ON r.id = i.record_id WHERE i.external_ref IN `+list, args...)
	if err != nil {
		return nil, fmt.Errorf("find imported incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var e existing
		if err := rows.Scan(&ref, &e.id, &e.number, &e.state, &e.hash, &e.version); err != nil {
			return nil, err
		}
		out[ref] = e
	}
	return out, rows.Err()
}

func (s *Service) createImported(ctx context.Context, tx *db.Tx, importer int64, m imported) error {
	w := m.Row
	r, err := s.records.CreateIn(ctx, tx, Type, record.NewRecord{Title: m.Title, Description: m.Description, Priority: m.Priority,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			w.RecordID = r.ID
			return nil, insertRow(ctx, tx, &w)
		}})
	if err != nil {
		return fmt.Errorf("import %s: %w", m.Ref, err)
	}
	closed := m.State == StateClosed || m.State == StateCancelled
	// The caller is a name of the source system, not a user here: the kernel's
	// requester (the importer, by default) is cleared.
	if _, err := tx.ExecContext(ctx, `UPDATE records SET state = ?, closed = ?, reassignments = ?, created_at = ?, updated_at = ?,
		requester_id = NULL WHERE id = ?`, m.State, closed, m.Reassignments, m.CreatedAt, m.UpdatedAt, r.ID); err != nil {
		return fmt.Errorf("backdate %s: %w", r.Number, err)
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "incident.import", ObjectType: "record", ObjectID: r.Number, Changes: append(
		[]audit.Change{{Field: "source", New: "servicenow"}, {Field: "externalRef", New: m.Ref}, {Field: "state", Old: r.State, New: m.State},
			{Field: "openedAt", New: m.CreatedAt}, {Field: "reassignments", New: m.Reassignments}},
		audit.Diff(rowAudited, map[string]any{}, rowFields(w))...)})
	return nil
}

// updateImported applies a changed export to an incident imported before:
// the source's fields are overwritten, those Steward added (escalation, a
// major declaration, the title and description) kept.
func (s *Service) updateImported(ctx context.Context, tx *db.Tx, ex existing, m imported) error {
	old, err := loadRow(ctx, tx, ex.id)
	if err != nil {
		return err
	}
	w := old
	n := m.Row
	w.Category, w.Subcategory, w.LoggedCategory, w.LoggedSubcategory = n.Category, n.Subcategory, n.LoggedCategory, n.LoggedSubcategory
	w.Channel, w.Impact, w.Urgency = n.Channel, n.Impact, n.Urgency
	if w.Path != PathMajor {
		w.Path = n.Path
	}
	w.HoldReason, w.HeldAt = n.HoldReason, n.HeldAt
	w.ResolvedAt, w.ResolutionCode, w.ResolutionNotes = n.ResolvedAt, n.ResolutionCode, n.ResolutionNotes
	w.ClosedAt, w.ReopenCount, w.CategoryReviewed = n.ClosedAt, n.ReopenCount, n.CategoryReviewed
	w.ExternalCaller, w.ExternalGroup, w.ExternalAssignee = n.ExternalCaller, n.ExternalGroup, n.ExternalAssignee
	w.ExternalPriority, w.ExternalData, w.MadeSLA, w.ImportHash = n.ExternalPriority, n.ExternalData, n.MadeSLA, n.ImportHash
	if err := saveRow(ctx, tx, &w); err != nil {
		return err
	}
	closed := m.State == StateClosed || m.State == StateCancelled
	if _, err := tx.ExecContext(ctx, `UPDATE records SET state = ?, closed = ?, priority = ?, reassignments = ?, updated_at = ?,
		version = version + 1 WHERE id = ?`, m.State, closed, m.Priority, m.Reassignments, m.UpdatedAt, ex.id); err != nil {
		return fmt.Errorf("update %s: %w", ex.number, err)
	}
	changes := append([]audit.Change{{Field: "source", New: "servicenow"}, {Field: "externalRef", New: m.Ref}},
		audit.Diff(rowAudited, rowFields(old), rowFields(w))...)
	if ex.state != m.State {
		changes = append(changes, audit.Change{Field: "state", Old: ex.state, New: m.State})
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "incident.import.update", ObjectType: "record", ObjectID: ex.number, Changes: changes})
	return nil
}

// ImportServiceNowCSV parses a ServiceNow incident export and imports it
// (ImportServiceNow). It returns what the parser read, with the rows it skipped and why.
func (s *Service) ImportServiceNowCSV(ctx context.Context, data []byte) (ImportResult, servicenow.Report, error) {
	if _, err := principal(ctx); err != nil {
		return ImportResult{}, servicenow.Report{}, err
	}
	list, rep, err := servicenow.Parse(bytes.NewReader(data), servicenow.Options{})
	if err != nil {
		return ImportResult{}, rep, err
	}
	res, err := s.ImportServiceNow(ctx, list)
	return res, rep, err
}
