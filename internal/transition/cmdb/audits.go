package cmdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb/reconcile"
)

// Verification and audit (CfM5): observed data, a discovery file, is
// reconciled against the CMDB by identification rules. Each recorded CI of
// the scope that no row matched is missing; each row that matched no CI is
// unexpected (so is a row whose key fits several CIs, reason "ambiguous", and
// a row matching a CI an earlier row matched, reason "duplicate"); a matched
// CI whose compared attributes differ is mismatched. The audit and its
// findings are kept; remediation tasks can be opened for the findings.

// AuditScope says which recorded CIs an audit expects to observe: those of
// Class (and its subclasses; every CI when empty), in Status when given,
// never disposed ones.
type AuditScope struct {
	Class  string `json:"class,omitempty"`
	Status Status `json:"status,omitempty"`
}

// NewAudit is an audit to run.
type NewAudit struct {
	Name  string
	Scope AuditScope
	// Rules identify a CI in priority order; nil means DefaultRules. Their
	// fields are name, class, status or attributes of the scope's classes.
	Rules []reconcile.Rule
	// Compare lists the fields compared on matched CIs; nil means every
	// observed column that is an attribute of the scope's class.
	Compare    []string
	Format     reconcile.Format
	Source     io.Reader
	SourceName string
	// DryRun reconciles and reports without storing anything.
	DryRun bool
	// Remediate opens a remediation task per finding, up to MaxRemediationTasks.
	Remediate bool
}

// MaxRemediationTasks is the most remediation tasks one audit opens.
const MaxRemediationTasks = 500

// MaxReportedFindings is the most findings an audit report lists.
const MaxReportedFindings = 1000

// AuditRule is an identification rule as an audit records it.
type AuditRule struct {
	Name   string   `json:"name"`
	Fields []string `json:"fields"`
}

// Audit is a verification audit as stored.
type Audit struct {
	ID         int64       `json:"id"`
	Name       string      `json:"name"`
	Scope      AuditScope  `json:"scope"`
	Rules      []AuditRule `json:"rules"`
	Compare    []string    `json:"compare"`
	SourceName string      `json:"sourceName,omitempty"`
	SHA256     string      `json:"sha256"`
	// Observed counts the file's rows: Matched + Unexpected.
	Observed   int64 `json:"observed"`
	Matched    int64 `json:"matched"`
	Mismatched int64 `json:"mismatched"`
	Missing    int64 `json:"missing"`
	Unexpected int64 `json:"unexpected"`
	// Tasks counts the remediation tasks opened for its findings.
	Tasks     int64     `json:"tasks"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy int64     `json:"createdBy,omitempty"`
}

// FieldDifference is one compared field whose values disagree.
type FieldDifference struct {
	Field    string `json:"field"`
	Recorded string `json:"recorded"`
	Observed string `json:"observed"`
}

// AuditFinding is one discrepancy an audit found.
type AuditFinding struct {
	ID   int64  `json:"id,omitempty"`
	Kind string `json:"kind" enum:"missing,unexpected,mismatched"`
	// Reason refines an unexpected finding: "ambiguous" (its key fits the
	// Candidates) or "duplicate" (its CI was matched by an earlier row).
	Reason string `json:"reason,omitempty"`
	// CI is the recorded CI (missing, mismatched, duplicate).
	CI *CIRef `json:"ci,omitempty"`
	// Line is the observed row's line (CSV, header = 1) or position (JSON).
	Line        int               `json:"line,omitempty"`
	Rule        string            `json:"rule,omitempty"`
	Observed    map[string]string `json:"observed,omitempty"`
	Differences []FieldDifference `json:"differences,omitempty"`
	Candidates  []int64           `json:"candidates,omitempty"`
	TaskNumber  string            `json:"taskNumber,omitempty"`
}

// AuditReport is the outcome of RunAudit.
type AuditReport struct {
	// Audit is what was stored; its ID is 0 on a dry run.
	Audit
	DryRun     bool `json:"dryRun"`
	Duplicates int  `json:"duplicates"`
	Ambiguous  int  `json:"ambiguous"`
	// TasksOpened and TasksNotOpened count remediation tasks (beyond the cap, or after a failure).
	TasksOpened      int    `json:"tasksOpened"`
	TasksNotOpened   int    `json:"tasksNotOpened"`
	RemediationError string `json:"remediationError,omitempty"`
	// Findings lists the first MaxReportedFindings findings.
	Findings          []AuditFinding `json:"findings"`
	FindingsTruncated bool           `json:"findingsTruncated"`
}

// observation is what ci_audit_findings.observed holds: the row and how it matched.
type observation struct {
	Line       int               `json:"line,omitempty"`
	Rule       string            `json:"rule,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Candidates []int64           `json:"candidates,omitempty"`
	Values     map[string]string `json:"values,omitempty"`
}

// storedScope is what ci_audits.scope holds.
type storedScope struct {
	AuditScope
	Compare []string `json:"compare"`
}

func auditObject(id int64) string { return "ci-audit/" + strconv.FormatInt(id, 10) }

// rootClass is the class of an audit scope without one.
const rootClass = "configuration_item"

// RunAudit reconciles a discovery file with the CMDB (CfM5). A file with a
// column that is neither name, class, status nor an attribute of the scope's
// classes is refused whole (422 naming the columns) before anything is read
// from the CMDB. Unless it is a dry run the audit and its findings are
// stored in one transaction; with Remediate, tasks are opened afterwards.
func (s *Service) RunAudit(ctx context.Context, in NewAudit) (rep AuditReport, err error) {
	defer errs.Wrap(&err, "run verification audit")
	if auth.PrincipalFrom(ctx) == nil {
		return rep, errs.E(errs.Unauthenticated, "sign in to run an audit")
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return rep, err
	}
	in.Name = strings.TrimSpace(in.Name)
	var fe []errs.FieldError
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 200 {
		fe = append(fe, errs.FieldError{Location: "query.name", Message: "a name has 1 to 200 characters"})
	}
	if in.Scope.Class == "" {
		in.Scope.Class = rootClass
	}
	scopeClass, ok := cat.byName[in.Scope.Class]
	if !ok {
		fe = append(fe, errs.FieldError{Location: "query.class", Message: "unknown CI class " + in.Scope.Class, Value: in.Scope.Class})
	}
	if in.Scope.Status != "" && !slices.Contains(Statuses, in.Scope.Status) {
		fe = append(fe, errs.FieldError{Location: "query.status", Message: "unknown status; the lifecycle is " + statusList(Statuses), Value: in.Scope.Status})
	}
	if err := errs.WithFields(fe); err != nil {
		return rep, err
	}
	classes := cat.subtree(scopeClass.ID)
	known := map[string]bool{"name": true, "class": true, "status": true}
	for _, id := range classes {
		for _, a := range cat.classes[id].Attributes {
			known[a.Name] = true
		}
	}
	rules := in.Rules
	if rules == nil {
		rules = DefaultRules()
	}
	if err := reconcile.ValidateRules(rules); err != nil {
		return rep, errs.Field("query.rules", err.Error(), nil)
	}
	for _, r := range rules {
		for _, f := range r.Fields {
			if !known[f] {
				fe = append(fe, errs.FieldError{Location: "query.rules", Message: "rule " + r.Name + ": " + f + " is not a field of the scope's CIs", Value: f})
			}
		}
	}
	for _, f := range in.Compare {
		if !known[f] {
			fe = append(fe, errs.FieldError{Location: "query.compare", Message: f + " is not a field of the scope's CIs", Value: f})
		}
	}
	if err := errs.WithFields(fe); err != nil {
		return rep, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActVerify, "run a verification audit of", "cmdb", raci.Scope{}); err != nil {
		return rep, err
	}
	file, err := readFile(in.Source, in.Format, "query.format")
	if err != nil {
		return rep, err
	}
	if err := unknownColumns(file.table.Columns, func(c string) bool { return known[c] },
		"the columns are name, class, status and attributes of class "+scopeClass.Name+" and its subclasses"); err != nil {
		return rep, err
	}
	compare := in.Compare
	if compare == nil {
		compare = []string{}
		for _, c := range file.table.Columns {
			if slices.ContainsFunc(scopeClass.Attributes, func(a Attribute) bool { return a.Name == c }) {
				compare = append(compare, c)
			}
		}
	}
	fields := []string{"name"}
	for _, r := range rules {
		fields = append(fields, r.Fields...)
	}
	fields = append(fields, compare...)
	slices.Sort(fields)
	items, err := s.auditItems(ctx, cat, in.Scope, classes, slices.Compact(fields))
	if err != nil {
		return rep, err
	}
	res := reconcile.Reconcile(rules, items, file.table.Rows, compare)
	items = nil

	rep.Name, rep.Scope, rep.Compare, rep.SourceName, rep.SHA256 = in.Name, in.Scope, compare, in.SourceName, file.sha
	for _, r := range rules {
		rep.Rules = append(rep.Rules, AuditRule{Name: r.Name, Fields: r.Fields})
	}
	rep.Observed, rep.Matched, rep.Mismatched = int64(res.Observed), int64(res.Matched), int64(res.Mismatched)
	rep.Missing, rep.Unexpected = int64(res.Missing), int64(res.Unexpected+res.Duplicates+res.Ambiguous)
	rep.Duplicates, rep.Ambiguous, rep.DryRun = res.Duplicates, res.Ambiguous, in.DryRun
	rep.CreatedAt, rep.CreatedBy = s.clock.Now().UTC(), auth.PrincipalFrom(ctx).UserID
	findings := make([]AuditFinding, len(res.Findings))
	for i, f := range res.Findings {
		findings[i] = toFinding(f, file.offset)
	}
	rep.Findings = findings[:min(len(findings), MaxReportedFindings)]
	if !in.DryRun {
		if err := s.storeAudit(ctx, &rep.Audit, findings, rep.Findings); err != nil {
			return rep, err
		}
	}
	rep.FindingsTruncated = len(findings) > MaxReportedFindings
	if err := s.nameFindings(ctx, cat, rep.Findings); err != nil {
		return rep, err
	}
	if in.Remediate && !in.DryRun && len(findings) > 0 {
		if err := s.remediate(ctx, cat, &rep, findings); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// toFinding turns a reconciliation finding into an audit finding.
func toFinding(f reconcile.Finding, offset int) AuditFinding {
	out := AuditFinding{Kind: string(f.Kind), Rule: f.Rule, Candidates: f.Candidates}
	switch f.Kind {
	case reconcile.KindAmbiguous, reconcile.KindDuplicate:
		out.Kind, out.Reason = string(reconcile.KindUnexpected), string(f.Kind)
	}
	if f.ItemID != 0 {
		out.CI = &CIRef{ID: f.ItemID}
	}
	if f.Row != nil {
		out.Line, out.Observed = f.Row.Line+offset, f.Row.Fields
	}
	for _, d := range f.Differences {
		out.Differences = append(out.Differences, FieldDifference{Field: d.Field, Recorded: d.Recorded, Observed: d.Observed})
	}
	return out
}

// nameFindings fills in the name, class and status of the findings' CIs.
func (s *Service) nameFindings(ctx context.Context, cat *catalog, fs []AuditFinding) error {
	var ids []int64
	for _, f := range fs {
		if f.CI != nil {
			ids = append(ids, f.CI.ID)
		}
	}
	refs, err := refsOf(ctx, s.db, cat, ids)
	if err != nil {
		return err
	}
	for i := range fs {
		if fs[i].CI != nil {
			if r, ok := refs[fs[i].CI.ID]; ok {
				fs[i].CI = &r
			}
		}
	}
	return nil
}

// attrText is the SQL reading a top-level attribute of c.attrs as text: a
// string as it is, a number in its JSON form. name is a catalogue attribute
// name (lower-case letters, digits and underscores), never other input.
func attrText(e db.Engine, name string) string {
	if !namePattern.MatchString(name) {
		panic("cmdb: attribute name " + strconv.Quote(name) + " in SQL")
	}
	if e == db.Postgres {
		return "(c.attrs::jsonb ->> '" + name + "')"
	}
	return "(c.attrs ->> '$." + name + "')"
}

// auditItems streams the recorded CIs of the scope, 5,000 at a time, each
// with the fields the rules and the comparison need.
func (s *Service) auditItems(ctx context.Context, cat *catalog, sc AuditScope, classes []int64, fields []string) ([]reconcile.Item, error) {
	var attrs []string
	for _, f := range fields {
		if f != "name" && f != "class" && f != "status" {
			attrs = append(attrs, f)
		}
	}
	// SQLite's ->> reads a JSON boolean as 1 or 0.
	booleans := map[int64]map[string]bool{}
	for _, id := range classes {
		for _, a := range cat.classes[id].Attributes {
			if a.Type == TypeBoolean {
				if booleans[id] == nil {
					booleans[id] = map[string]bool{}
				}
				booleans[id][a.Name] = true
			}
		}
	}
	cols := "c.id, c.name, c.class_id, c.status"
	for _, a := range attrs {
		cols += ", " + attrText(s.db.Engine(), a)
	}
	where := ` WHERE c.class_id IN (` + inList(len(classes)) + `) AND c.status <> 'disposed'`
	args := int64Args(classes)
	if sc.Status != "" {
		where += ` AND c.status = ?`
		args = append(args, string(sc.Status))
	}
	var items []reconcile.Item
	vals := make([]sql.NullString, len(attrs))
	dest := make([]any, 4+len(attrs))
	after := int64(0)
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM cis c`+where+` AND c.id > ? ORDER BY c.id LIMIT 5000`, append(slices.Clone(args), after)...)
		if err != nil {
			return nil, fmt.Errorf("read the scope's CIs: %w", err)
		}
		n := 0
		for rows.Next() {
			var it reconcile.Item
			var name, status string
			var class int64
			dest[0], dest[1], dest[2], dest[3] = &it.ID, &name, &class, &status
			for i := range vals {
				dest[4+i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, err
			}
			it.Fields = make(map[string]string, 2+len(attrs))
			it.Fields["name"] = name
			if slices.Contains(fields, "class") {
				it.Fields["class"] = cat.classes[class].Name
			}
			if slices.Contains(fields, "status") {
				it.Fields["status"] = status
			}
			for i, a := range attrs {
				if !vals[i].Valid || vals[i].String == "" {
					continue
				}
				v := vals[i].String
				if booleans[class][a] {
					switch v {
					case "1":
						v = "true"
					case "0":
						v = "false"
					}
				}
				it.Fields[a] = v
			}
			items = append(items, it)
			after, n = it.ID, n+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read the scope's CIs: %w", err)
		}
		if n < 5000 {
			return items, nil
		}
	}
}

// storeAudit writes the audit and its findings in one transaction, and
// numbers the first findings (those reported).
func (s *Service) storeAudit(ctx context.Context, a *Audit, findings, reported []AuditFinding) error {
	scope, _ := json.Marshal(storedScope{AuditScope: a.Scope, Compare: a.Compare})
	rules, _ := json.Marshal(a.Rules)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO ci_audits (name, scope, rules, source_name, source_sha, observed, matched, mismatched, missing, unexpected, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.Name, string(scope), string(rules), a.SourceName, a.SHA256,
			a.Observed, a.Matched, a.Mismatched, a.Missing, a.Unexpected, now, actor(ctx)).Scan(&a.ID); err != nil {
			return fmt.Errorf("insert audit: %w", err)
		}
		a.CreatedAt = ms(now)
		err := bulkWrite(ctx, tx, "ci_audit_findings", []string{"kind", "ci_id", "observed", "differences"}, []string{"audit_id"}, []any{a.ID},
			len(findings), func(i int, w *rowWriter) {
				f := &findings[i]
				w.Str(f.Kind)
				if f.CI != nil {
					w.Int(f.CI.ID)
				} else {
					w.Any(nil)
				}
				obs, _ := json.Marshal(observation{Line: f.Line, Rule: f.Rule, Reason: f.Reason, Candidates: f.Candidates, Values: f.Observed})
				w.Str(string(obs))
				diffs := []byte("[]")
				if len(f.Differences) > 0 {
					diffs, _ = json.Marshal(f.Differences)
				}
				w.Str(string(diffs))
			})
		if err != nil {
			return fmt.Errorf("insert findings: %w", err)
		}
		// Findings are inserted in order, so their ids ascend in the same order.
		rows, err := tx.QueryContext(ctx, `SELECT id FROM ci_audit_findings WHERE audit_id = ? ORDER BY id LIMIT ?`, a.ID, len(reported))
		if err != nil {
			return err
		}
		for i := 0; rows.Next() && i < len(reported); i++ {
			if err := rows.Scan(&reported[i].ID); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		counts := []audit.Change{{Field: "name", New: a.Name}, {Field: "scope", New: a.Scope}, {Field: "source", New: a.SourceName},
			{Field: "sha256", New: a.SHA256}, {Field: "observed", New: a.Observed}, {Field: "matched", New: a.Matched},
			{Field: "mismatched", New: a.Mismatched}, {Field: "missing", New: a.Missing}, {Field: "unexpected", New: a.Unexpected}}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci.audit", ObjectType: "ci_audit", ObjectID: auditObject(a.ID), Changes: counts})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.audited", Subject: auditObject(a.ID), Data: a})
	})
}

// remediate opens a remediation task for each finding, up to
// MaxRemediationTasks, and records its number on the finding.
//
// The record kernel's Create runs its own transaction (it numbers the task,
// journals it and checks the caller may perform CfM5), so tasks cannot join
// the audit's transaction: they are opened after the audit has committed,
// one by one, and their numbers are written to the findings in one short
// transaction at the end. A failure part way leaves the audit and the tasks
// opened so far (with their numbers on their findings), and is reported.
func (s *Service) remediate(ctx context.Context, cat *catalog, rep *AuditReport, findings []AuditFinding) error {
	ids := make([]int64, 0, min(len(rep.Findings), MaxRemediationTasks))
	for _, f := range rep.Findings[:min(len(rep.Findings), MaxRemediationTasks)] {
		ids = append(ids, f.ID)
	}
	opened := rep.Findings[:len(ids)]
	var cis []int64
	for _, f := range opened {
		if f.CI != nil {
			cis = append(cis, f.CI.ID)
		}
	}
	slices.Sort(cis)
	info, err := ciMarkings(ctx, s.db, cat, slices.Compact(cis))
	if err != nil {
		return err
	}
	numbers := map[int64]string{}
	var failure error
	for i, f := range opened {
		nr := remediationRecord(rep, f, info)
		r, err := s.records.Create(ctx, "config_remediation", nr)
		if err != nil {
			failure = err
			break
		}
		numbers[ids[i]] = r.Number
		rep.Findings[i].TaskNumber = r.Number
	}
	rep.TasksOpened = len(numbers)
	rep.TasksNotOpened = len(findings) - len(numbers)
	rep.Tasks = int64(len(numbers))
	if len(numbers) > 0 {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			for _, id := range ids {
				if n, ok := numbers[id]; ok {
					if _, err := tx.ExecContext(ctx, `UPDATE ci_audit_findings SET task_number = ? WHERE id = ?`, n, id); err != nil {
						return fmt.Errorf("record task %s: %w", n, err)
					}
				}
			}
			s.trail.Record(ctx, tx, audit.Entry{Action: "ci.audit.remediate", ObjectType: "ci_audit", ObjectID: auditObject(rep.ID),
				Changes: []audit.Change{{Field: "tasks", New: len(numbers)}}})
			return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.audit.remediation-opened", Subject: auditObject(rep.ID),
				Data: map[string]any{"auditId": rep.ID, "tasks": len(numbers), "notOpened": rep.TasksNotOpened}})
		})
		if err != nil {
			return err
		}
	}
	if failure != nil {
		e, ok := errs.As(failure)
		if !ok || e.Kind == errs.Internal {
			return fmt.Errorf("open remediation tasks (audit %d is stored): %w", rep.ID, failure)
		}
		rep.RemediationError = e.Error()
	}
	return nil
}

// ciInfo is what a remediation task says about a CI.
type ciInfo struct {
	CIRef
	marking string
}

func ciMarkings(ctx context.Context, q db.Queryer, cat *catalog, ids []int64) (map[int64]ciInfo, error) {
	out := map[int64]ciInfo{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT id, name, class_id, status, marking FROM cis WHERE id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c ciInfo
			var class int64
			if err := rows.Scan(&c.ID, &c.Name, &class, &c.Status, &c.marking); err != nil {
				rows.Close()
				return nil, err
			}
			c.Class = cat.classes[class].Name
			out[c.ID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// remediationRecord describes a finding as a task.
func remediationRecord(rep *AuditReport, f AuditFinding, info map[int64]ciInfo) record.NewRecord {
	var ci ciInfo
	if f.CI != nil {
		ci = info[f.CI.ID]
	}
	var title string
	var b strings.Builder
	fmt.Fprintf(&b, "Verification audit %q (audit %d) of %s", rep.Name, rep.ID, rep.Scope.Class)
	if rep.SourceName != "" {
		fmt.Fprintf(&b, " against %s", rep.SourceName)
	}
	fmt.Fprintf(&b, " (SHA-256 %s) found:\n\n", rep.SHA256)
	observed := func() string {
		keys := make([]string, 0, len(f.Observed))
		for k, v := range f.Observed {
			if strings.TrimSpace(v) != "" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + strings.TrimSpace(f.Observed[k])
		}
		return strings.Join(parts, ", ")
	}
	switch {
	case f.Kind == string(reconcile.KindMissing):
		title = fmt.Sprintf("Missing CI %s (%s %d)", ci.Name, ci.Class, ci.ID)
		fmt.Fprintf(&b, "CI %d %s (%s, %s) was not observed. Check whether it still exists; correct or retire its record.", ci.ID, ci.Name, ci.Class, ci.Status)
	case f.Kind == string(reconcile.KindMismatched):
		names := make([]string, len(f.Differences))
		for i, d := range f.Differences {
			names[i] = d.Field
		}
		title = fmt.Sprintf("Mismatched CI %s: %s", ci.Name, strings.Join(names, ", "))
		fmt.Fprintf(&b, "CI %d %s (%s) matched line %d by %s, but differs:\n", ci.ID, ci.Name, ci.Class, f.Line, f.Rule)
		for _, d := range f.Differences {
			fmt.Fprintf(&b, "- %s: recorded %q, observed %q\n", d.Field, d.Recorded, d.Observed)
		}
		b.WriteString("\nCorrect the record, or the configuration item through an authorised change.")
	case f.Reason == string(reconcile.KindAmbiguous):
		title = fmt.Sprintf("Observation fits CIs %s", joinIDs(f.Candidates))
		fmt.Fprintf(&b, "Line %d (%s) fits CIs %s by %s. Remove the duplicate records or correct their identification.", f.Line, observed(), joinIDs(f.Candidates), f.Rule)
	case f.Reason == string(reconcile.KindDuplicate):
		title = fmt.Sprintf("CI %s observed more than once", ci.Name)
		fmt.Fprintf(&b, "Line %d (%s) matches CI %d %s by %s, which an earlier line matched too.", f.Line, observed(), ci.ID, ci.Name, f.Rule)
	default:
		title = "Unexpected CI observed: " + observed()
		fmt.Fprintf(&b, "Line %d (%s) matches no CI. Register it, or remove what should not be there.", f.Line, observed())
	}
	if r := []rune(title); len(r) > 200 {
		title = string(r[:199]) + "…"
	}
	return record.NewRecord{Title: title, Description: b.String(), Marking: ci.marking}
}

const auditColumns = `a.id, a.name, a.scope, a.rules, a.source_name, a.source_sha, a.observed, a.matched, a.mismatched, a.missing, a.unexpected,
	a.created_at, COALESCE(a.created_by, 0), (SELECT COUNT(*) FROM ci_audit_findings f WHERE f.audit_id = a.id AND f.task_number <> '')`

func scanAudit(r listing.Scanner) (Audit, error) {
	var a Audit
	var scope, rules string
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &scope, &rules, &a.SourceName, &a.SHA256, &a.Observed, &a.Matched, &a.Mismatched, &a.Missing,
		&a.Unexpected, &created, &a.CreatedBy, &a.Tasks); err != nil {
		return a, err
	}
	a.CreatedAt = ms(created)
	var sc storedScope
	if err := json.Unmarshal([]byte(scope), &sc); err != nil {
		return a, fmt.Errorf("audit %d scope: %w", a.ID, err)
	}
	a.Scope, a.Compare = sc.AuditScope, sc.Compare
	if a.Compare == nil {
		a.Compare = []string{}
	}
	if err := json.Unmarshal([]byte(rules), &a.Rules); err != nil {
		return a, fmt.Errorf("audit %d rules: %w", a.ID, err)
	}
	return a, nil
}

// Audit reads a stored audit.
func (s *Service) Audit(ctx context.Context, id int64) (Audit, error) {
	a, err := scanAudit(s.db.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM ci_audits a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, errs.E(errs.NotFound, "no audit with id %d", id)
	}
	if err != nil {
		return a, fmt.Errorf("read audit %d: %w", id, err)
	}
	return a, nil
}

var auditSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "a.id", Sortable: true, Kind: "int"},
		"name":      {SQL: "a.name", Sortable: true, Kind: "text"},
		"createdAt": {SQL: "a.created_at", Sortable: true, Kind: "int"},
	},
	Fields: []string{"id", "name", "scope", "rules", "compare", "sourceName", "sha256", "observed", "matched", "mismatched", "missing",
		"unexpected", "tasks", "createdAt", "createdBy"},
	DefaultSort: "-id",
	IDColumn:    "a.id",
}

// Audits lists stored audits, newest first by default; name keeps those whose name starts with it.
func (s *Service) Audits(ctx context.Context, name string, p listing.Params) (listing.Page[Audit], int64, error) {
	var fs []listing.Filter
	if name != "" {
		fs = append(fs, listing.Filter{Field: "name", Value: name, Prefix: true})
	}
	src := listing.Source[Audit]{Spec: auditSpec, From: "ci_audits a", Columns: auditColumns, Scan: scanAudit,
		Key: func(a Audit, field string) any {
			switch field {
			case "name":
				return a.Name
			case "createdAt":
				return a.CreatedAt.UnixMilli()
			}
			return a.ID
		},
		ID: func(a Audit) int64 { return a.ID }}
	return listing.Fetch(ctx, s.db, src, p, fs)
}

var findingSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":   {SQL: "f.id", Sortable: true, Kind: "int"},
		"kind": {SQL: "f.kind", Kind: "text"},
	},
	Fields:      []string{"id", "kind", "reason", "ci", "line", "rule", "observed", "differences", "candidates", "taskNumber"},
	DefaultSort: "id",
	IDColumn:    "f.id",
}

// AuditFindings lists an audit's findings, of one kind (missing, unexpected
// or mismatched) when kind is given.
func (s *Service) AuditFindings(ctx context.Context, id int64, kind string, p listing.Params) (listing.Page[AuditFinding], int64, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return listing.Page[AuditFinding]{}, 0, err
	}
	if _, err := s.Audit(ctx, id); err != nil {
		return listing.Page[AuditFinding]{}, 0, err
	}
	fs := []listing.Filter{{Where: "f.audit_id = ?", Args: []any{id}}}
	if kind != "" {
		if !slices.Contains([]string{"missing", "unexpected", "mismatched"}, kind) {
			return listing.Page[AuditFinding]{}, 0, errs.Field("query.kind", "a kind of finding is missing, unexpected or mismatched", kind)
		}
		fs = append(fs, listing.Filter{Field: "kind", Value: kind})
	}
	src := listing.Source[AuditFinding]{Spec: findingSpec, From: "ci_audit_findings f LEFT JOIN cis c ON c.id = f.ci_id",
		Columns: `f.id, f.kind, COALESCE(f.ci_id, 0), f.observed, f.differences, f.task_number, COALESCE(c.name, ''), COALESCE(c.class_id, 0), COALESCE(c.status, '')`,
		Scan: func(r listing.Scanner) (AuditFinding, error) {
			var f AuditFinding
			var ci, class int64
			var obs, diffs, name, status string
			if err := r.Scan(&f.ID, &f.Kind, &ci, &obs, &diffs, &f.TaskNumber, &name, &class, &status); err != nil {
				return f, err
			}
			var o observation
			if err := json.Unmarshal([]byte(obs), &o); err != nil {
				return f, fmt.Errorf("finding %d: %w", f.ID, err)
			}
			f.Line, f.Rule, f.Reason, f.Candidates, f.Observed = o.Line, o.Rule, o.Reason, o.Candidates, o.Values
			if err := json.Unmarshal([]byte(diffs), &f.Differences); err != nil {
				return f, fmt.Errorf("finding %d: %w", f.ID, err)
			}
			if ci != 0 {
				f.CI = &CIRef{ID: ci, Name: name, Status: Status(status)}
				if cl, ok := cat.classes[class]; ok {
					f.CI.Class = cl.Name
				}
			}
			return f, nil
		},
		Key: func(f AuditFinding, _ string) any { return f.ID },
		ID:  func(f AuditFinding) int64 { return f.ID }}
	return listing.Fetch(ctx, s.db, src, p, fs)
}
