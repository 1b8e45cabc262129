package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

func msOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// chunks splits vs into slices of at most n, so that IN lists stay under both engines' parameter limits.
func chunks[T any](vs []T, n int) [][]T {
	var out [][]T
	for len(vs) > n {
		out = append(out, vs[:n])
		vs = vs[n:]
	}
	if len(vs) > 0 {
		out = append(out, vs)
	}
	return out
}

// row is an incident's own row.
type row struct {
	RecordID                          int64
	CIID                              int64
	Category, Subcategory             string
	LoggedCategory, LoggedSubcategory string
	Channel                           string
	Impact, Urgency                   int
	Path                              string
	ManagerID, DeclaredAt, DeclaredBy int64
	MajorReason                       string
	Escalation                        int
	HoldReason                        string
	HeldAt                            int64
	ResolvedAt, ResolvedBy            int64
	ResolutionCode, ResolutionNotes   string
	Effort                            int64
	FirstContact                      bool
	Rejections                        int
	LastRejection                     string
	ClosedAt, ClosedBy                int64
	ReopenCount                       int
	CategoryReviewed, CategoryChanged bool
	ReclassifiedAs                    string
	ExternalRef                       string
	ExternalCaller, ExternalGroup     string
	ExternalAssignee                  string
	ExternalPriority                  int
	ExternalData                      string
	MadeSLA                           *bool
	ImportHash                        string
}

// rowCols are an incident row's columns after record_id, in rowArgs's order.
const rowCols = `ci_id, category, subcategory, logged_category, logged_subcategory, channel, impact, urgency, path,
	major_manager_id, major_declared_at, major_declared_by, major_reason, escalation_level, hold_reason, held_at, resolved_at,
	resolved_by, resolution_code, resolution_notes, effort_minutes, first_contact, rejections, last_rejection, closed_at,
	closed_by, reopen_count, category_reviewed, category_changed, reclassified_as, external_ref, external_caller,
	external_group, external_assignee, external_priority, external_data, made_sla, import_hash`

const rowColCount = 38

// rowSelect reads rowCols from "incidents i", NULLs as zero values.
const rowSelect = `COALESCE(i.ci_id, 0), i.category, i.subcategory, i.logged_category, i.logged_subcategory, i.channel, i.impact,
	i.urgency, i.path, COALESCE(i.major_manager_id, 0), i.major_declared_at, COALESCE(i.major_declared_by, 0), i.major_reason,
	i.escalation_level, i.hold_reason, i.held_at, i.resolved_at, COALESCE(i.resolved_by, 0), i.resolution_code,
	i.resolution_notes, i.effort_minutes, i.first_contact, i.rejections, i.last_rejection, i.closed_at, COALESCE(i.closed_by, 0),
	i.reopen_count, i.category_reviewed, i.category_changed, i.reclassified_as, COALESCE(i.external_ref, ''), i.external_caller,
	i.external_group, i.external_assignee, i.external_priority, i.external_data, i.made_sla, i.import_hash`

func rowArgs(r *row) []any {
	var made any
	if r.MadeSLA != nil {
		made = *r.MadeSLA
	}
	data := r.ExternalData
	if data == "" {
		data = "{}"
	}
	return []any{db.NullID(r.CIID), r.Category, r.Subcategory, r.LoggedCategory, r.LoggedSubcategory, r.Channel, r.Impact, r.Urgency,
		r.Path, db.NullID(r.ManagerID), r.DeclaredAt, db.NullID(r.DeclaredBy), r.MajorReason, r.Escalation, r.HoldReason, r.HeldAt,
		r.ResolvedAt, db.NullID(r.ResolvedBy), r.ResolutionCode, r.ResolutionNotes, r.Effort, r.FirstContact, r.Rejections,
		r.LastRejection, r.ClosedAt, db.NullID(r.ClosedBy), r.ReopenCount, r.CategoryReviewed, r.CategoryChanged, r.ReclassifiedAs,
		nullText(r.ExternalRef), r.ExternalCaller, r.ExternalGroup, r.ExternalAssignee, r.ExternalPriority, data, made, r.ImportHash}
}

// rowDest returns the scan destinations of rowSelect into r.
func rowDest(r *row, made *sql.NullBool) []any {
	return []any{&r.CIID, &r.Category, &r.Subcategory, &r.LoggedCategory, &r.LoggedSubcategory, &r.Channel, &r.Impact, &r.Urgency,
		&r.Path, &r.ManagerID, &r.DeclaredAt, &r.DeclaredBy, &r.MajorReason, &r.Escalation, &r.HoldReason, &r.HeldAt, &r.ResolvedAt,
		&r.ResolvedBy, &r.ResolutionCode, &r.ResolutionNotes, &r.Effort, &r.FirstContact, &r.Rejections, &r.LastRejection,
		&r.ClosedAt, &r.ClosedBy, &r.ReopenCount, &r.CategoryReviewed, &r.CategoryChanged, &r.ReclassifiedAs, &r.ExternalRef,
		&r.ExternalCaller, &r.ExternalGroup, &r.ExternalAssignee, &r.ExternalPriority, &r.ExternalData, made, &r.ImportHash}
}

func finishRow(r *row, made sql.NullBool) {
	if made.Valid {
		v := made.Bool
		r.MadeSLA = &v
	}
}

func insertRow(ctx context.Context, tx *db.Tx, r *row) error {
	q := `INSERT INTO incidents (record_id, ` + rowCols + `) VALUES (?` + strings.Repeat(", ?", rowColCount) + `)`
	_, err := tx.ExecContext(ctx, q, append([]any{r.RecordID}, rowArgs(r)...)...)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "an incident imported as %s exists already", r.ExternalRef)
	}
	if db.IsForeignKeyViolation(err) {
		return errs.E(errs.Invalid, "the CI or a user of the incident does not exist")
	}
	if err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	return nil
}

// setCols is "col = ?, …" of rowCols.
var setCols = func() string {
	cols := strings.Split(rowCols, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c) + " = ?"
	}
	return strings.Join(cols, ", ")
}()

func saveRow(ctx context.Context, tx *db.Tx, r *row) error {
	_, err := tx.ExecContext(ctx, `UPDATE incidents SET `+setCols+` WHERE record_id = ?`, append(rowArgs(r), r.RecordID)...)
	if db.IsForeignKeyViolation(err) {
		return errs.E(errs.Invalid, "the CI or a user of the incident does not exist")
	}
	if err != nil {
		return fmt.Errorf("save incident: %w", err)
	}
	return nil
}

// loadRow reads an incident's own row.
func loadRow(ctx context.Context, q db.Queryer, id int64) (row, error) {
	r := row{RecordID: id}
	var made sql.NullBool
	err := q.QueryRowContext(ctx, `SELECT `+rowSelect+` FROM incidents i WHERE i.record_id = ?`, id).Scan(rowDest(&r, &made)...)
	if db.IsNoRows(err) {
		return r, fmt.Errorf("record %d has no incident row", id)
	}
	if err != nil {
		return r, fmt.Errorf("read incident %d: %w", id, err)
	}
	finishRow(&r, made)
	return r, nil
}

// scanRecordDest returns the destinations of record.Columns.
type recordScan struct {
	r                                     record.Record
	prio, team, assignee, requester, serv sql.NullInt64
	c, u                                  int64
}

func (s *recordScan) dest() []any {
	r := &s.r
	return []any{&r.ID, &r.Type, &r.Number, &r.Process, &r.Title, &r.Description, &r.State, &r.Closed, &s.prio, &s.team,
		&s.assignee, &s.requester, &s.serv, &r.Marking, &r.Reassignments, &s.c, &s.u, &r.Version}
}

func (s *recordScan) record() record.Record {
	r := s.r
	r.Priority = int(s.prio.Int64)
	r.TeamID, r.AssigneeID, r.RequesterID, r.ServiceID = s.team.Int64, s.assignee.Int64, s.requester.Int64, s.serv.Int64
	r.CreatedAt, r.UpdatedAt = db.Time(s.c), db.Time(s.u)
	return r
}

// viewCols and viewFrom read the desk's view of incidents: record, own row and names, in one query.
const viewCols = record.Columns + `, ` + rowSelect + `,
	COALESCE(NULLIF(cu.display_name, ''), cu.username, ''), COALESCE(NULLIF(au.display_name, ''), au.username, ''),
	COALESCE(t.name, ''), COALESCE(sv.name, ''), COALESCE(ci.name, ''), COALESCE(NULLIF(mu.display_name, ''), mu.username, ''),
	COALESCE(cat.label, ''), COALESCE(sub.label, ''), CASE WHEN rv.record_id IS NULL THEN 0 ELSE 1 END`

const viewJoins = ` JOIN incidents i ON i.record_id = r.id
	LEFT JOIN users cu ON cu.id = r.requester_id LEFT JOIN users au ON au.id = r.assignee_id
	LEFT JOIN teams t ON t.id = r.team_id LEFT JOIN cis sv ON sv.id = r.service_id LEFT JOIN cis ci ON ci.id = i.ci_id
	LEFT JOIN users mu ON mu.id = i.major_manager_id
	LEFT JOIN incident_categories cat ON cat.parent_key = '' AND cat.cat_key = i.category
	LEFT JOIN incident_categories sub ON sub.parent_key = i.category AND sub.cat_key = i.subcategory AND i.subcategory <> ''
	LEFT JOIN incident_major_reviews rv ON rv.record_id = r.id`

// scanView reads one row of viewCols into an Incident.
func scanView(sc interface{ Scan(...any) error }) (Incident, row, error) {
	var rs recordScan
	var w row
	var made sql.NullBool
	var inc Incident
	var reviewed int
	var manager string
	dest := append(rs.dest(), rowDest(&w, &made)...)
	dest = append(dest, &inc.CallerName, &inc.AssigneeName, &inc.TeamName, &inc.ServiceName, &inc.CIName, &manager,
		&inc.CategoryLabel, &inc.SubcategoryLabel, &reviewed)
	if err := sc.Scan(dest...); err != nil {
		return inc, w, err
	}
	finishRow(&w, made)
	inc.Record = rs.record()
	w.RecordID = inc.ID
	fillIncident(&inc, &w)
	if inc.Major != nil {
		inc.Major.ManagerName = manager
		inc.Major.Reviewed = reviewed == 1
	}
	return inc, w, nil
}

// fillIncident copies an incident's own row into its read model.
func fillIncident(inc *Incident, w *row) {
	inc.CIID, inc.Category, inc.Subcategory = w.CIID, w.Category, w.Subcategory
	inc.LoggedCategory, inc.LoggedSubcategory = w.LoggedCategory, w.LoggedSubcategory
	inc.Channel, inc.Impact, inc.Urgency, inc.Path = w.Channel, w.Impact, w.Urgency, w.Path
	inc.EscalationLevel, inc.HoldReason, inc.HeldAt = w.Escalation, w.HoldReason, db.Time(w.HeldAt)
	inc.Rejections, inc.LastRejection = w.Rejections, w.LastRejection
	inc.ClosedAt, inc.ClosedBy, inc.ReopenCount = db.Time(w.ClosedAt), w.ClosedBy, w.ReopenCount
	inc.CategoryReviewed, inc.CategoryChanged, inc.ReclassifiedAs = w.CategoryReviewed, w.CategoryChanged, w.ReclassifiedAs
	inc.Major, inc.Resolution, inc.External = nil, nil, nil
	if w.Path == PathMajor {
		inc.Major = &MajorIncident{ManagerID: w.ManagerID, DeclaredAt: db.Time(w.DeclaredAt), DeclaredBy: w.DeclaredBy, Reason: w.MajorReason}
	}
	if w.ResolvedAt != 0 {
		inc.Resolution = &IncidentResolution{Code: w.ResolutionCode, Notes: w.ResolutionNotes, EffortMinutes: w.Effort,
			FirstContact: w.FirstContact, ResolvedAt: db.Time(w.ResolvedAt), ResolvedBy: w.ResolvedBy}
	}
	if w.ExternalRef != "" {
		inc.External = &ExternalSource{Ref: w.ExternalRef, Caller: w.ExternalCaller, Group: w.ExternalGroup, Assignee: w.ExternalAssignee,
			Priority: w.ExternalPriority, MadeSLA: w.MadeSLA}
		if w.ExternalData != "" && w.ExternalData != "{}" {
			inc.External.Data = json.RawMessage(w.ExternalData)
		}
	}
}

// loadView reads the desk's view of one incident by number; a record of another type is not found.
func loadView(ctx context.Context, q db.Queryer, number string) (Incident, row, error) {
	inc, w, err := scanView(q.QueryRowContext(ctx, `SELECT `+viewCols+` FROM records r`+viewJoins+
		` WHERE r.number = ? AND r.type = ?`, number, Type))
	if db.IsNoRows(err) {
		return inc, w, errs.E(errs.NotFound, "no incident %s", number)
	}
	if err != nil {
		return inc, w, fmt.Errorf("read incident %s: %w", number, err)
	}
	return inc, w, nil
}

// refCheck is what checkRefs found: the problems, by field.
type refCheck struct {
	service, ci, category, subcategory, caller bool
}

// checkRefs checks, in one query, that a service is a CMDB service, a CI
// exists, neither is disposed, the category and subcategory are active keys of
// the taxonomy, and the caller is an active account. Zero ids and empty keys
// are not checked. Problems are Invalid, naming the fields at loc.
func checkRefs(ctx context.Context, q db.Queryer, service, ci int64, category, subcategory string, caller int64, loc map[string]string) error {
	var svc, c, cat, sub, usr int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM ci_services s JOIN cis c ON c.id = s.ci_id WHERE s.ci_id = ? AND c.status <> 'disposed'),
		(SELECT COUNT(*) FROM cis WHERE id = ? AND status <> 'disposed'),
		(SELECT COUNT(*) FROM incident_categories WHERE parent_key = '' AND cat_key = ? AND active),
		(SELECT COUNT(*) FROM incident_categories WHERE parent_key = ? AND cat_key = ? AND active),
		(SELECT COUNT(*) FROM users WHERE id = ? AND NOT disabled)`,
		service, ci, category, category, subcategory, caller).Scan(&svc, &c, &cat, &sub, &usr)
	if err != nil {
		return fmt.Errorf("check the service, CI, category and caller: %w", err)
	}
	var f fieldErrs
	if service != 0 && svc == 0 {
		f.add(loc["service"], "no such CMDB service (a CI with a service record, not disposed)", service)
	}
	if ci != 0 && c == 0 {
		f.add(loc["ci"], "no such configuration item, or it is disposed", ci)
	}
	if category != "" && cat == 0 {
		f.add(loc["category"], "no such active category in the taxonomy", category)
	}
	if subcategory != "" && sub == 0 {
		f.add(loc["subcategory"], "no such active subcategory of "+category+" in the taxonomy", subcategory)
	}
	if caller != 0 && usr == 0 {
		f.add(loc["caller"], "no such active user", caller)
	}
	return f.err()
}

var bodyLocs = map[string]string{"service": "body.service", "ci": "body.ci", "category": "body.category",
	"subcategory": "body.subcategory", "caller": "body.callerId"}

var closureLocs = map[string]string{"category": "body.closureCategory", "subcategory": "body.closureSubcategory"}

// ---- settings ----

func loadSettings(ctx context.Context, q db.Queryer) (IncidentSettings, error) {
	var data string
	var v, at int64
	err := q.QueryRowContext(ctx, `SELECT data, version, updated_at FROM incident_settings WHERE id = 1`).Scan(&data, &v, &at)
	if db.IsNoRows(err) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return IncidentSettings{}, fmt.Errorf("read incident settings: %w", err)
	}
	var s IncidentSettings
	if err := json.Unmarshal([]byte(data), &s); err != nil {
		return IncidentSettings{}, fmt.Errorf("decode incident settings: %w", err)
	}
	normalizeSettings(&s)
	s.Version, s.UpdatedAt = v, db.Time(at)
	return s, nil
}

// storeSettings writes the settings if their version is still expect; it returns the new version.
func storeSettings(ctx context.Context, tx *db.Tx, s IncidentSettings, expect, by, now int64) (int64, error) {
	s.Version, s.UpdatedAt = 0, time.Time{}
	b, err := json.Marshal(s)
	if err != nil {
		return 0, fmt.Errorf("encode incident settings: %w", err)
	}
	var v int64
	if expect == 0 {
		err = tx.QueryRowContext(ctx, `INSERT INTO incident_settings (id, data, version, updated_by, updated_at) VALUES (1, ?, 1, ?, ?)
			ON CONFLICT (id) DO NOTHING RETURNING version`, string(b), db.NullID(by), now).Scan(&v)
	} else {
		err = tx.QueryRowContext(ctx, `UPDATE incident_settings SET data = ?, version = version + 1, updated_by = ?, updated_at = ?
			WHERE id = 1 AND version = ? RETURNING version`, string(b), db.NullID(by), now, expect).Scan(&v)
	}
	if db.IsNoRows(err) {
		return 0, errs.E(errs.PreconditionFailed, "the incident settings changed since version %d; read them again", expect)
	}
	if err != nil {
		return 0, fmt.Errorf("save incident settings: %w", err)
	}
	return v, nil
}

// ---- taxonomy ----

const categoryCols = `id, cat_key, parent_key, label, description, active, position, version, created_at, updated_at`

func scanCategory(sc interface{ Scan(...any) error }) (IncidentCategory, error) {
	var c IncidentCategory
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Key, &c.Parent, &c.Label, &c.Description, &c.Active, &c.Position, &c.Version, &created, &updated)
	c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
	return c, err
}

func listCategories(ctx context.Context, q db.Queryer, parent *string, activeOnly bool) ([]IncidentCategory, error) {
	where := " WHERE 1 = 1"
	var args []any
	if parent != nil {
		where += " AND parent_key = ?"
		args = append(args, *parent)
	}
	if activeOnly {
		where += " AND active"
	}
	rows, err := q.QueryContext(ctx, `SELECT `+categoryCols+` FROM incident_categories`+where+
		` ORDER BY CASE WHEN parent_key = '' THEN cat_key ELSE parent_key END, parent_key <> '', position, cat_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	defer rows.Close()
	out := []IncidentCategory{}
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, fmt.Errorf("list categories: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func loadCategory(ctx context.Context, q db.Queryer, id int64, lock string) (IncidentCategory, error) {
	c, err := scanCategory(q.QueryRowContext(ctx, `SELECT `+categoryCols+` FROM incident_categories WHERE id = ?`+lock, id))
	if db.IsNoRows(err) {
		return c, errs.E(errs.NotFound, "no incident category %d", id)
	}
	if err != nil {
		return c, fmt.Errorf("read category %d: %w", id, err)
	}
	return c, nil
}

func insertCategory(ctx context.Context, tx *db.Tx, c IncidentCategory, now int64) (IncidentCategory, error) {
	out, err := scanCategory(tx.QueryRowContext(ctx, `INSERT INTO incident_categories (cat_key, parent_key, label, description,
		active, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+categoryCols,
		c.Key, c.Parent, c.Label, c.Description, c.Active, c.Position, now, now))
	if db.IsUniqueViolation(err) {
		where := "as a category"
		if c.Parent != "" {
			where = "under " + c.Parent
		}
		return out, &errs.Error{Kind: errs.Conflict, Message: "the key " + c.Key + " exists " + where,
			Fields: []errs.FieldError{{Location: "body.key", Message: "exists already", Value: c.Key}}}
	}
	if err != nil {
		return out, fmt.Errorf("insert category: %w", err)
	}
	return out, nil
}

func saveCategory(ctx context.Context, tx *db.Tx, c IncidentCategory, now int64) (IncidentCategory, error) {
	out, err := scanCategory(tx.QueryRowContext(ctx, `UPDATE incident_categories SET label = ?, description = ?, active = ?,
		position = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING `+categoryCols,
		c.Label, c.Description, c.Active, c.Position, now, c.ID, c.Version))
	if db.IsNoRows(err) {
		return out, errs.E(errs.PreconditionFailed, "category %d changed concurrently; read it again", c.ID)
	}
	if err != nil {
		return out, fmt.Errorf("save category %d: %w", c.ID, err)
	}
	return out, nil
}

// categoryUse counts the incidents and subcategories that use a taxonomy entry.
func categoryUse(ctx context.Context, q db.Queryer, c IncidentCategory) (int64, error) {
	var n int64
	var err error
	if c.Parent == "" {
		err = q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM incidents WHERE category = ?)
			+ (SELECT COUNT(*) FROM incident_categories WHERE parent_key = ?)`, c.Key, c.Key).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE category = ? AND subcategory = ?`, c.Parent, c.Key).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count the use of category %s: %w", c.Key, err)
	}
	return n, nil
}

// ---- step fields ----

func saveStepFields(ctx context.Context, tx *db.Tx, id int64, action string, f StepFields, by, now int64) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode step fields: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO incident_step_fields (record_id, action, data, given_by, given_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (record_id, action) DO UPDATE SET data = excluded.data, given_by = excluded.given_by, given_at = excluded.given_at`,
		id, action, string(b), db.NullID(by), now)
	if err != nil {
		return fmt.Errorf("keep the fields of %s: %w", action, err)
	}
	return nil
}

// loadStepFields reads the fields kept for a step, and whether there are any.
func loadStepFields(ctx context.Context, q db.Queryer, id int64, action string) (StepFields, bool, error) {
	var data string
	var f StepFields
	err := q.QueryRowContext(ctx, `SELECT data FROM incident_step_fields WHERE record_id = ? AND action = ?`, id, action).Scan(&data)
	if db.IsNoRows(err) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("read the fields of %s: %w", action, err)
	}
	if err := json.Unmarshal([]byte(data), &f); err != nil {
		return f, false, fmt.Errorf("decode the fields of %s: %w", action, err)
	}
	return f, true, nil
}

func dropStepFields(ctx context.Context, tx *db.Tx, id int64, action string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM incident_step_fields WHERE record_id = ? AND action = ?`, id, action); err != nil {
		return fmt.Errorf("drop the fields of %s: %w", action, err)
	}
	return nil
}

// ---- major incidents ----

func hasReview(ctx context.Context, q db.Queryer, id int64) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM incident_major_reviews WHERE record_id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("check the review: %w", err)
	}
	return n > 0, nil
}

func loadReview(ctx context.Context, q db.Queryer, id int64) (*MajorReview, error) {
	var rv MajorReview
	var at int64
	err := q.QueryRowContext(ctx, `SELECT summary, root_cause, lessons, actions, COALESCE(reviewed_by, 0), reviewed_at
		FROM incident_major_reviews WHERE record_id = ?`, id).Scan(&rv.Summary, &rv.RootCause, &rv.Lessons, &rv.Actions, &rv.ReviewedBy, &at)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the review: %w", err)
	}
	rv.ReviewedAt = db.Time(at)
	return &rv, nil
}

func saveReview(ctx context.Context, tx *db.Tx, id int64, rv MajorReview) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_major_reviews (record_id, summary, root_cause, lessons, actions, reviewed_by,
		reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET summary = excluded.summary,
		root_cause = excluded.root_cause, lessons = excluded.lessons, actions = excluded.actions,
		reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at`,
		id, rv.Summary, rv.RootCause, rv.Lessons, rv.Actions, db.NullID(rv.ReviewedBy), msOf(rv.ReviewedAt))
	if err != nil {
		return fmt.Errorf("save the review: %w", err)
	}
	return nil
}

func insertUpdate(ctx context.Context, tx *db.Tx, id int64, u *MajorUpdate) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO incident_major_updates (record_id, audience, message, author_id, author_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, u.Audience, u.Message, db.NullID(u.AuthorID), u.AuthorName, msOf(u.CreatedAt)).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("save the update: %w", err)
	}
	return nil
}

func listUpdates(ctx context.Context, q db.Queryer, id int64) ([]MajorUpdate, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, audience, message, COALESCE(author_id, 0), author_name, created_at
		FROM incident_major_updates WHERE record_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list updates: %w", err)
	}
	defer rows.Close()
	out := []MajorUpdate{}
	for rows.Next() {
		var u MajorUpdate
		var at int64
		if err := rows.Scan(&u.ID, &u.Audience, &u.Message, &u.AuthorID, &u.AuthorName, &at); err != nil {
			return nil, err
		}
		u.CreatedAt = db.Time(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

func insertComm(ctx context.Context, tx *db.Tx, id int64, c *MajorCommunication) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO incident_major_comms (record_id, channel, party, summary, author_id, author_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, c.Channel, c.Party, c.Summary, db.NullID(c.AuthorID), c.AuthorName,
		msOf(c.CreatedAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("save the communication: %w", err)
	}
	return nil
}

func listComms(ctx context.Context, q db.Queryer, id int64) ([]MajorCommunication, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, channel, party, summary, COALESCE(author_id, 0), author_name, created_at
		FROM incident_major_comms WHERE record_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list communications: %w", err)
	}
	defer rows.Close()
	out := []MajorCommunication{}
	for rows.Next() {
		var c MajorCommunication
		var at int64
		if err := rows.Scan(&c.ID, &c.Channel, &c.Party, &c.Summary, &c.AuthorID, &c.AuthorName, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = db.Time(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// childRef is a child incident of a major incident.
type childRef struct {
	ID     int64
	Number string
	State  string
}

// children lists the incidents linked as children of a record (parent_of links from it).
func children(ctx context.Context, q db.Queryer, id int64) ([]childRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.number, r.state FROM record_links l JOIN records r ON r.id = l.to_id
		WHERE l.from_id = ? AND l.type = 'parent_of' AND r.type = ? ORDER BY r.id`, id, Type)
	if err != nil {
		return nil, fmt.Errorf("list children: %w", err)
	}
	defer rows.Close()
	var out []childRef
	for rows.Next() {
		var c childRef
		if err := rows.Scan(&c.ID, &c.Number, &c.State); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// parentOf returns the number of the incident a record is a child of, or "".
func parentOf(ctx context.Context, q db.Queryer, id int64) (string, error) {
	var n string
	err := q.QueryRowContext(ctx, `SELECT r.number FROM record_links l JOIN records r ON r.id = l.from_id
		WHERE l.to_id = ? AND l.type = 'parent_of' AND r.type = ? ORDER BY l.id LIMIT 1`, id, Type).Scan(&n)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find the parent: %w", err)
	}
	return n, nil
}

// ---- security clearance ----

// cleared reports, with one query, whether a user holds (directly or through
// a team) any role assigned for ISM, or one of roles assigned for any of
// subjects (the subjects that count in IM).
func cleared(ctx context.Context, q db.Queryer, user int64, roles, subjects []string) (bool, error) {
	cond := `a.subject = ?`
	args := []any{user, user, SecurityProcess}
	if len(roles) > 0 && len(subjects) > 0 {
		rl, ra := db.In(roles)
		sl, sa := db.In(subjects)
		cond += ` OR (a.role IN ` + rl + ` AND a.subject IN ` + sl + `)`
		args = append(append(args, ra...), sa...)
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM raci_assignments a
		WHERE (a.user_id = ? OR a.team_id IN (SELECT team_id FROM team_members WHERE user_id = ?)) AND (`+cond+`)`, args...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check security clearance: %w", err)
	}
	return n > 0, nil
}

// pathOf reads the path of an incident by record id; "" when it has no incident row yet.
func pathOf(ctx context.Context, q db.Queryer, id int64) (string, error) {
	var p string
	err := q.QueryRowContext(ctx, `SELECT path FROM incidents WHERE record_id = ?`, id).Scan(&p)
	if db.IsNoRows(err) {
		return "", nil
	}
	return p, err
}
