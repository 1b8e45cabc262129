package asset

import (
	"context"
	"fmt"
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
)

// validateAudit checks what an inventory audit is run from.
func validateAudit(in NewInventoryAudit) error {
	var f fieldErrs
	if in.LocationCIID < 0 {
		f.add("body.locationCiId", "a location CI id, or 0 to audit every location", in.LocationCIID)
	}
	if len(in.Observed) > maxObserved {
		f.add("body.observed", fmt.Sprintf("at most %d observations per audit", maxObserved), len(in.Observed))
	}
	for i, o := range in.Observed {
		if utf8.RuneCountInString(o) > maxSerial || !utf8.ValidString(o) {
			f.add(fmt.Sprintf("body.observed[%d]", i), fmt.Sprintf("a tag or serial number of at most %d characters", maxSerial), nil)
			break
		}
	}
	f.text("body.note", in.Note, maxNotes)
	return f.err()
}

// auditCandidates reads the assets an audit must consider: those whose tag or
// serial number was observed, and the physical ones recorded at the location
// (every physical one in a state it should be seen in, without a location).
func auditCandidates(ctx context.Context, q db.Queryer, location int64, observed []string) ([]auditAsset, error) {
	const cols = `SELECT a.record_id, r.number, COALESCE(a.asset_tag, ''), a.serial_number, a.kind, r.state, COALESCE(a.location_ci_id, 0)
		FROM assets a JOIN records r ON r.id = a.record_id`
	var out []auditAsset
	seen := map[int64]bool{}
	read := func(query string, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("read audit candidates: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a auditAsset
			var kind string
			if err := rows.Scan(&a.ID, &a.Number, &a.Tag, &a.Serial, &kind, &a.State, &a.LocationCIID); err != nil {
				return err
			}
			a.Kind = Kind(kind)
			if !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
		return rows.Err()
	}
	for _, part := range chunks(observed, 400) {
		list, args := db.In(part)
		if err := read(cols+` WHERE a.asset_tag IN `+list+` OR a.serial_number IN `+list, append(args, args...)...); err != nil {
			return nil, err
		}
	}
	states, stateArgs := db.In(expectedStates)
	if location != 0 {
		if err := read(cols+` WHERE a.location_ci_id = ?`, location); err != nil {
			return nil, err
		}
	} else if err := read(cols+` WHERE a.kind IN ('hardware', 'facility') AND r.state IN `+states, stateArgs...); err != nil {
		return nil, err
	}
	return out, nil
}

// RunAudit runs an inventory audit (AM4): it reconciles the tags and serial
// numbers observed at a location (or anywhere, without one) against the asset
// records. A dry run only reports. Otherwise the audit and its rows are
// stored, report_missing is performed through the kernel on every missing
// asset, and a remediation task (AM5) linked to the asset is opened for every
// missing or unexpected row; each row tells what its step did. Applying needs
// R or A for AM4; each kernel step is decided again on its own.
func (s *Service) RunAudit(ctx context.Context, in NewInventoryAudit) (out InventoryAudit, err error) {
	defer errs.Wrap(&err, "run an inventory audit")
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return out, errs.E(errs.Unauthenticated, "sign in first")
	}
	if err := validateAudit(in); err != nil {
		return out, err
	}
	in.Note = strings.TrimSpace(in.Note)
	out = InventoryAudit{DryRun: in.DryRun, LocationCIID: in.LocationCIID, Note: in.Note, CreatedBy: p.UserID, CreatedByName: p.Username,
		CreatedAt: s.clock.Now().Truncate(time.Millisecond)}
	if in.LocationCIID != 0 {
		if out.LocationName, err = ciName(ctx, s.db, "body.locationCiId", in.LocationCIID); err != nil {
			return out, err
		}
	}
	if !in.DryRun {
		if _, err := s.records.Authorize(ctx, Process, ActAudit, "run", "asset_audit/new", raci.Scope{}); err != nil {
			return out, err
		}
	}
	observed := observedIDs(in.Observed)
	candidates, err := auditCandidates(ctx, s.db, in.LocationCIID, observed)
	if err != nil {
		return out, err
	}
	out.Observed = int64(len(observed))
	out.Items = reconcile(in.LocationCIID, observed, candidates)
	tally(&out)
	if in.DryRun {
		return out, nil
	}
	itemIDs := make([]int64, len(out.Items))
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO asset_audits (location_ci_id, note, observed, found, missing, unexpected,
			created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, db.NullID(out.LocationCIID), out.Note, out.Observed,
			out.Found, out.Missing, out.Unexpected, p.UserID, out.CreatedAt.UnixMilli()).Scan(&out.ID); err != nil {
			return fmt.Errorf("insert audit: %w", err)
		}
		for i, it := range out.Items {
			if err := tx.QueryRowContext(ctx, `INSERT INTO asset_audit_items (audit_id, result, observed, asset_id, state,
				recorded_location_ci_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, out.ID, string(it.Result), it.Observed,
				db.NullID(it.assetID), it.State, it.RecordedLocationCIID, it.Reason).Scan(&itemIDs[i]); err != nil {
				return fmt.Errorf("insert audit row: %w", err)
			}
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "asset.audit.run", ObjectType: "asset_audit", ObjectID: strconv.FormatInt(out.ID, 10),
			Changes: []audit.Change{{Field: "locationCiId", New: out.LocationCIID}, {Field: "observed", New: out.Observed},
				{Field: "found", New: out.Found}, {Field: "missing", New: out.Missing}, {Field: "unexpected", New: out.Unexpected}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "asset.audit_recorded", Subject: "asset_audit/" + strconv.FormatInt(out.ID, 10),
			Data: map[string]any{"id": out.ID, "locationCiId": out.LocationCIID, "found": out.Found, "missing": out.Missing,
				"unexpected": out.Unexpected}})
	})
	if err != nil {
		return out, err
	}
	for i := range out.Items {
		it := &out.Items[i]
		if it.Result == Found {
			continue
		}
		if it.Result == NotObserved {
			it.Step = s.reportMissing(ctx, out, *it)
		}
		number, rerr := s.openRemediation(ctx, out, *it)
		it.Remediation = number
		switch {
		case rerr != nil && number == "":
			it.Step = strings.TrimSpace(it.Step + " No remediation task: " + message(rerr) + ".")
		case rerr != nil:
			it.Step = strings.TrimSpace(it.Step + " " + number + " is not linked to the asset: " + message(rerr) + ".")
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for i, it := range out.Items {
			if it.Step == "" && it.Remediation == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE asset_audit_items SET step = ?, remediation = ? WHERE id = ?`,
				it.Step, it.Remediation, itemIDs[i]); err != nil {
				return fmt.Errorf("record what audit row %d did: %w", itemIDs[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.Audit(ctx, out.ID)
}

// where names the audited place in messages.
func where(a InventoryAudit) string {
	if a.LocationName != "" {
		return "at " + a.LocationName
	}
	if a.LocationCIID != 0 {
		return fmt.Sprintf("at location CI %d", a.LocationCIID)
	}
	return "anywhere"
}

// reportMissing performs report_missing (AM4) on a missing asset and says what became of it.
func (s *Service) reportMissing(ctx context.Context, a InventoryAudit, it InventoryItem) string {
	res, err := s.records.Perform(ctx, it.Asset, "report_missing", record.PerformInput{
		Comment: fmt.Sprintf("Not observed %s in inventory audit %d.", where(a), a.ID)})
	switch {
	case err != nil:
		return "Not reported missing: " + message(err) + "."
	case res.Outcome == record.OutcomeApplied:
		return "Reported missing."
	case res.Step != nil:
		return fmt.Sprintf("Report missing %s (step %d).", strings.ReplaceAll(string(res.Outcome), "_", " "), res.Step.ID)
	}
	return "Report missing: " + string(res.Outcome) + "."
}

// openRemediation opens the remediation task of a missing or unexpected row,
// linked to its asset when there is one, and returns its number.
func (s *Service) openRemediation(ctx context.Context, a InventoryAudit, it InventoryItem) (string, error) {
	what := it.Asset
	if it.AssetTag != "" {
		what += " (" + it.AssetTag + ")"
	}
	var title string
	switch {
	case it.Result == NotObserved:
		title = fmt.Sprintf("Locate missing asset %s: not observed %s", what, where(a))
	case it.Asset == "":
		title = fmt.Sprintf("Identify unknown asset %s observed %s", it.Observed, where(a))
	default:
		title = fmt.Sprintf("Reconcile asset %s observed %s: %s", what, where(a), it.Reason)
	}
	if utf8.RuneCountInString(title) > 200 {
		title = string([]rune(title)[:199]) + "…"
	}
	desc := fmt.Sprintf("Inventory audit %d (%s) found this %s: %s.", a.ID, where(a), it.Result, it.Reason)
	if it.Observed != "" {
		desc += " Observed: " + it.Observed + "."
	}
	if it.Step != "" {
		desc += " " + it.Step
	}
	r, err := s.records.Create(ctx, RemediationType, record.NewRecord{Title: title, Description: desc,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			return []audit.Change{{Field: "asset", New: it.Asset}, {Field: "audit", New: a.ID}, {Field: "reason", New: string(it.Result)}},
				insertRemediation(ctx, tx, r.ID, it.assetID, a.ID, it.Result, it.Observed, a.LocationCIID)
		}})
	if err != nil {
		return "", err
	}
	if it.Asset != "" {
		if _, err := s.records.Link(ctx, r.Number, record.RelatedTo, it.Asset); err != nil {
			return r.Number, err
		}
	}
	return r.Number, nil
}

// auditList describes how audits are listed.
var auditList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":           {SQL: "x.id", Sortable: true, Kind: "int"},
		"createdAt":    {SQL: "x.created_at", Sortable: true, Kind: "int"},
		"locationCiId": {SQL: "x.location_ci_id", Kind: "int"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "x.id",
}

var auditSource = listing.Source[InventoryAudit]{
	Spec: auditList,
	From: `asset_audits x LEFT JOIN cis l ON l.id = x.location_ci_id LEFT JOIN users u ON u.id = x.created_by`,
	Columns: `x.id, COALESCE(x.location_ci_id, 0), COALESCE(l.name, ''), x.note, x.observed, x.found, x.missing, x.unexpected,
		COALESCE(x.created_by, 0), COALESCE(u.username, ''), x.created_at`,
	Scan: func(sc listing.Scanner) (InventoryAudit, error) {
		var a InventoryAudit
		var at int64
		err := sc.Scan(&a.ID, &a.LocationCIID, &a.LocationName, &a.Note, &a.Observed, &a.Found, &a.Missing, &a.Unexpected,
			&a.CreatedBy, &a.CreatedByName, &at)
		a.CreatedAt = db.Time(at)
		return a, err
	},
	Key: func(a InventoryAudit, field string) any {
		if field == "createdAt" {
			return a.CreatedAt.UnixMilli()
		}
		return a.ID
	},
	ID: func(a InventoryAudit) int64 { return a.ID },
}

// Audits pages the inventory audits, newest first, without their rows.
func (s *Service) Audits(ctx context.Context, locationCIID int64, p listing.Params) (page listing.Page[InventoryAudit], total int64, err error) {
	defer errs.Wrap(&err, "list inventory audits")
	var lf []listing.Filter
	if locationCIID != 0 {
		lf = append(lf, listing.Filter{Field: "locationCiId", Value: locationCIID})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, auditSource, p, lf)
}

// Audit returns an inventory audit with its rows.
func (s *Service) Audit(ctx context.Context, id int64) (out InventoryAudit, err error) {
	defer errs.Wrap(&err, "read inventory audit %d", id)
	out, err = auditSource.Scan(s.db.QueryRowContext(ctx, `SELECT `+auditSource.Columns+` FROM `+auditSource.From+` WHERE x.id = ?`, id))
	if db.IsNoRows(err) {
		return out, errs.E(errs.NotFound, "no inventory audit %d", id)
	}
	if err != nil {
		return out, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT i.result, i.observed, COALESCE(r.number, ''), COALESCE(a.asset_tag, ''),
		COALESCE(a.serial_number, ''), i.state, i.recorded_location_ci_id, i.reason, i.step, i.remediation, COALESCE(i.asset_id, 0)
		FROM asset_audit_items i LEFT JOIN records r ON r.id = i.asset_id LEFT JOIN assets a ON a.record_id = i.asset_id
		WHERE i.audit_id = ? ORDER BY i.id`, id)
	if err != nil {
		return out, fmt.Errorf("read audit rows: %w", err)
	}
	defer rows.Close()
	out.Items = []InventoryItem{}
	for rows.Next() {
		var it InventoryItem
		var result string
		if err := rows.Scan(&result, &it.Observed, &it.Asset, &it.AssetTag, &it.SerialNumber, &it.State, &it.RecordedLocationCIID, &it.Reason,
			&it.Step, &it.Remediation, &it.assetID); err != nil {
			return out, err
		}
		it.Result = AuditResult(result)
		out.Items = append(out.Items, it)
	}
	return out, rows.Err()
}
