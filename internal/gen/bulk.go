package gen

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"steward/internal/platform/db"
)

// maxParams keeps one INSERT under both engines' parameter limits (SQLite
// 32766, PostgreSQL 65535).
const maxParams = 30_000

// maxBatch is the most rows one INSERT carries.
const maxBatch = 1_000

// table is one table the generators write: its columns and the rows waiting
// to be inserted.
type table struct {
	name  string
	cols  []string
	batch int
	buf   []any
	rows  int
	// stmts caches the INSERT text per row count.
	stmts map[int]string
	// full is the INSERT of a full batch, prepared once: most rows go through
	// it, and the engine then parses and plans it once instead of per batch.
	full *sql.Stmt
}

// bulk writes rows with multi-row INSERTs inside the run's one transaction.
// When one table's buffer is full it flushes every table in the declared
// order, parents before children, so that a row never reaches the database
// before the rows it references.
type bulk struct {
	ctx    context.Context
	tx     *db.Tx
	order  []*table
	byName map[string]*table
	// written counts the rows inserted per table.
	written map[string]int64
}

// tableSpecs lists every table a generator writes, parents before children,
// with its columns in the order rows are given. A generator that writes a new
// table adds it here, after the tables it references.
func tableSpecs() [][]string {
	return [][]string{
		{"users", "id", "username", "display_name", "email", "password_hash", "is_admin", "disabled",
			"must_change_password", "last_login_at", "created_at", "updated_at"},
		{"teams", "id", "name", "description", "email", "created_at", "updated_at"},
		{"team_members", "team_id", "user_id"},
		{"user_roles", "user_id", "role_id"},
		{"raci_assignments", "id", "subject", "role", "user_id", "team_id", "scope_team_id", "scope_service_id",
			"assigned_by", "assigned_at"},
		{"records", "id", "type", "number", "process", "title", "description", "state", "closed", "priority", "team_id",
			"assignee_id", "requester_id", "service_id", "marking", "reassignments", "created_at", "updated_at", "version"},
		{"record_fts", "rowid", "number", "title", "description"},
		{"record_journal", "id", "record_id", "kind", "body", "author_id", "author_name", "created_at"},
		{"record_steps", "id", "record_id", "action", "activity", "from_state", "to_state", "state", "needs_approval",
			"comment", "requested_by", "requested_at", "performer_override"},
		{"record_step_approvers", "step_id", "user_id"},
		{"control_documents", "record_id", "kind", "version_number", "body", "kpi", "supersedes_id", "approved_at"},
		{"control_findings", "record_id", "severity", "observation"},
		{"control_actions", "id", "record_id", "description", "owner_id", "due_at", "status", "note", "completed_at",
			"created_at", "updated_at"},
		{"control_evaluations", "record_id", "period", "feedback", "measurements", "gap_analysis", "initiatives"},
		{"mission_partners", "id", "name", "created_at"},
		{"cis", "id", "class_id", "name", "status", "min_up", "attrs", "marking", "version", "created_at", "created_by",
			"updated_at", "updated_by", "valid_from"},
		{"ci_versions", "ci_id", "version", "class_id", "name", "status", "min_up", "attrs", "marking", "valid_from", "valid_to", "changed_by"},
		{"ci_attr_values", "attr_id", "value", "ci_id", "is_unique"},
		{"ci_services", "ci_id", "kind", "criticality"},
		{"ci_service_partners", "service_id", "partner_id"},
		{"ci_relations", "id", "source_id", "type_id", "target_id", "created_at", "created_by"},
		{"ci_relations_ended", "id", "source_id", "type_id", "target_id", "created_at", "created_by", "ended_at", "ended_by"},
		{"assets", "record_id", "kind", "asset_tag", "serial_number", "manufacturer", "model", "ci_id", "cost_minor", "currency",
			"purchase_date", "depreciation", "useful_life_months", "salvage_minor", "warranty_end", "contract_ref", "supplier",
			"assigned_user_id", "location_ci_id", "product", "entitlements", "licence_metric"},
		{"asset_disposals", "record_id", "method", "disposed_on", "certificate_ref", "notes", "recorded_by", "recorded_at", "applied_at"},
		{"asset_installations", "id", "product", "version", "host_asset_id", "host_ci_id", "discovered_at", "source", "created_by", "created_at"},
		{"asset_audits", "id", "location_ci_id", "note", "observed", "found", "missing", "unexpected", "created_by", "created_at"},
		{"asset_audit_items", "id", "audit_id", "result", "observed", "asset_id", "state", "recorded_location_ci_id", "reason", "step",
			"remediation"},
		{"asset_remediations", "record_id", "asset_id", "audit_id", "reason", "observed", "location_ci_id"},
		{"record_links", "id", "from_id", "to_id", "type", "created_by", "created_at"},
		{"incident_categories", "id", "parent_key", "cat_key", "label", "description", "active", "position", "version", "created_at",
			"updated_at"},
		{"incidents", "record_id", "ci_id", "category", "subcategory", "logged_category", "logged_subcategory", "channel", "impact",
			"urgency", "path", "major_manager_id", "major_declared_at", "major_reason", "hold_reason", "held_at", "resolved_at",
			"resolved_by", "resolution_code", "resolution_notes", "effort_minutes", "first_contact", "closed_at", "closed_by",
			"category_reviewed", "category_changed"},
		{"incident_major_updates", "id", "record_id", "audience", "message", "author_id", "author_name", "created_at"},
		{"incident_major_comms", "id", "record_id", "channel", "party", "summary", "author_id", "author_name", "created_at"},
		{"incident_major_reviews", "record_id", "summary", "root_cause", "lessons", "actions", "reviewed_by", "reviewed_at"},
		{"calendars", "id", "name", "description", "time_zone", "windows", "holidays", "created_at", "updated_at", "version"},
		{"agreements", "record_id", "kind", "customer", "supplier", "calendar_id", "starts_on", "ends_on", "review_months", "notes"},
		{"agreement_services", "agreement_id", "service_id"},
		{"agreement_underpins", "sla_id", "underpin_id"},
		{"agreement_targets", "id", "agreement_id", "name", "kind", "priority", "duration_ms", "percent", "record_types", "categories",
			"customer_teams", "rule", "warnings", "escalations", "position"},
		{"agreement_terms", "id", "agreement_id", "target_id", "kind", "trigger", "threshold", "amount", "currency", "description",
			"position"},
		{"outages", "id", "service_id", "ci_id", "kind", "source", "source_ref", "started_at", "ended_at", "description", "created_by",
			"created_at", "updated_at", "version"},
		{"audit_log", "seq", "at", "actor_type", "actor_id", "actor_name", "action", "object_type", "object_id", "changes",
			"request_id", "client_addr", "prev_hash", "hash"},
	}
}

func newBulk(ctx context.Context, tx *db.Tx) *bulk {
	b := &bulk{ctx: ctx, tx: tx, byName: map[string]*table{}, written: map[string]int64{}}
	for _, spec := range tableSpecs() {
		t := &table{name: spec[0], cols: spec[1:], stmts: map[int]string{}}
		t.batch = min(maxBatch, maxParams/len(t.cols))
		b.order = append(b.order, t)
		b.byName[t.name] = t
	}
	return b
}

// add queues one row of name, its values in the declared column order.
func (b *bulk) add(name string, vals ...any) error {
	t := b.byName[name]
	if t == nil {
		return fmt.Errorf("bulk: no table %s declared", name)
	}
	if len(vals) != len(t.cols) {
		return fmt.Errorf("bulk: %s has %d columns, got %d values", name, len(t.cols), len(vals))
	}
	if name == "record_fts" && b.tx.Engine() != db.SQLite {
		return nil // PostgreSQL's records.search column indexes itself.
	}
	t.buf = append(t.buf, vals...)
	t.rows++
	if t.rows >= t.batch {
		return b.flush()
	}
	return nil
}

// flush inserts every queued row, table by table in the declared order.
func (b *bulk) flush() error {
	for _, t := range b.order {
		if t.rows == 0 {
			continue
		}
		q, ok := t.stmts[t.rows]
		if !ok {
			row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
			q = `INSERT INTO ` + t.name + ` (` + strings.Join(t.cols, ", ") + `) VALUES ` +
				strings.TrimSuffix(strings.Repeat(row+", ", t.rows), ", ")
			t.stmts[t.rows] = q
		}
		var err error
		switch {
		case t.rows == t.batch && t.full != nil:
			_, err = t.full.ExecContext(b.ctx, t.buf...)
		case t.rows == t.batch:
			if t.full, err = b.tx.PrepareContext(b.ctx, q); err == nil {
				_, err = t.full.ExecContext(b.ctx, t.buf...)
			}
		default:
			_, err = b.tx.ExecContext(b.ctx, q, t.buf...)
		}
		if err != nil {
			return fmt.Errorf("insert %d rows into %s: %w", t.rows, t.name, err)
		}
		b.written[t.name] += int64(t.rows)
		t.buf, t.rows = t.buf[:0], 0
	}
	return nil
}
