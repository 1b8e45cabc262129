package asset

import (
	"context"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// chunks splits vs into slices of at most n, so that IN lists stay well under both engines' parameter limits.
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

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// dateMS stores a YYYY-MM-DD date as midnight UTC in unix milliseconds; "" is 0.
func dateMS(s string) int64 {
	t, ok := parseDate(s)
	if !ok {
		return 0
	}
	return t.UnixMilli()
}

// msDate reads a stored date back; 0 is "".
func msDate(v int64) string {
	if v == 0 {
		return ""
	}
	return time.UnixMilli(v).UTC().Format(dateStyle)
}

// assetRow is an asset's own row with the names its ids point to.
type assetRow struct {
	Details
	CIName, UserName, LocationName string
}

const detailCols = `a.record_id, a.kind, COALESCE(a.asset_tag, ''), a.serial_number, a.manufacturer, a.model, COALESCE(a.ci_id, 0),
	a.cost_minor, a.currency, a.purchase_date, a.depreciation, a.useful_life_months, a.salvage_minor, a.warranty_end,
	a.contract_ref, a.supplier, COALESCE(a.assigned_user_id, 0), COALESCE(a.location_ci_id, 0), a.product, a.entitlements,
	a.licence_metric, COALESCE(c.name, ''), COALESCE(u.username, ''), COALESCE(l.name, '')`

const detailFrom = ` FROM assets a LEFT JOIN cis c ON c.id = a.ci_id LEFT JOIN users u ON u.id = a.assigned_user_id
	LEFT JOIN cis l ON l.id = a.location_ci_id`

// loadDetails reads the own rows of assets, with the names of their CI, user and location, in one query.
func loadDetails(ctx context.Context, q db.Queryer, ids []int64) (map[int64]assetRow, error) {
	out := map[int64]assetRow{}
	for _, part := range chunks(ids, 500) {
		list, args := db.In(part)
		rows, err := q.QueryContext(ctx, `SELECT `+detailCols+detailFrom+` WHERE a.record_id IN `+list, args...)
		if err != nil {
			return nil, fmt.Errorf("read assets: %w", err)
		}
		for rows.Next() {
			var id, bought, warranty int64
			var r assetRow
			var kind, method, metric string
			if err := rows.Scan(&id, &kind, &r.AssetTag, &r.SerialNumber, &r.Manufacturer, &r.Model, &r.CIID, &r.CostMinor, &r.Currency,
				&bought, &method, &r.UsefulLifeMonths, &r.SalvageMinor, &warranty, &r.ContractRef, &r.Supplier, &r.AssignedUserID,
				&r.LocationCIID, &r.Product, &r.Entitlements, &metric, &r.CIName, &r.UserName, &r.LocationName); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read assets: %w", err)
			}
			r.Kind, r.Depreciation, r.LicenceMetric = Kind(kind), Method(method), Metric(metric)
			r.PurchaseDate, r.WarrantyEnd = msDate(bought), msDate(warranty)
			out[id] = r
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// detailArgs are d's column values in the order insertAsset and updateAsset write them.
func detailArgs(d Details) []any {
	return []any{string(d.Kind), nullText(d.AssetTag), d.SerialNumber, d.Manufacturer, d.Model, db.NullID(d.CIID), d.CostMinor,
		d.Currency, dateMS(d.PurchaseDate), string(d.Depreciation), d.UsefulLifeMonths, d.SalvageMinor, dateMS(d.WarrantyEnd),
		d.ContractRef, d.Supplier, db.NullID(d.AssignedUserID), db.NullID(d.LocationCIID), d.Product, d.Entitlements, string(d.LicenceMetric)}
}

// tagConflict is the error for an asset tag another asset has.
func tagConflict(tag, number string) error {
	return &errs.Error{Kind: errs.Conflict, Message: "asset tag " + tag + " is already the tag of " + number,
		Fields: []errs.FieldError{{Location: "body.assetTag", Message: "already the tag of " + number, Value: tag}}}
}

// tagOwner returns the id and number of the asset with tag, or 0.
func tagOwner(ctx context.Context, q db.Queryer, tag string) (int64, string, error) {
	if tag == "" {
		return 0, "", nil
	}
	var id int64
	var number string
	err := q.QueryRowContext(ctx, `SELECT a.record_id, r.number FROM assets a JOIN records r ON r.id = a.record_id
		WHERE a.asset_tag = ?`, tag).Scan(&id, &number)
	if db.IsNoRows(err) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("look up asset tag %s: %w", tag, err)
	}
	return id, number, nil
}

// checkTag refuses a tag another asset than self has.
func checkTag(ctx context.Context, q db.Queryer, tag string, self int64) error {
	id, number, err := tagOwner(ctx, q, tag)
	if err != nil || id == 0 || id == self {
		return err
	}
	return tagConflict(tag, number)
}

func insertAsset(ctx context.Context, tx *db.Tx, id int64, d Details) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO assets (record_id, kind, asset_tag, serial_number, manufacturer, model, ci_id,
		cost_minor, currency, purchase_date, depreciation, useful_life_months, salvage_minor, warranty_end, contract_ref, supplier,
		assigned_user_id, location_ci_id, product, entitlements, licence_metric)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{id}, detailArgs(d)...)...)
	if db.IsUniqueViolation(err) {
		return tagConflict(d.AssetTag, "another asset")
	}
	if err != nil {
		return fmt.Errorf("insert asset: %w", err)
	}
	return nil
}

func updateAsset(ctx context.Context, tx *db.Tx, id int64, d Details) error {
	_, err := tx.ExecContext(ctx, `UPDATE assets SET kind = ?, asset_tag = ?, serial_number = ?, manufacturer = ?, model = ?,
		ci_id = ?, cost_minor = ?, currency = ?, purchase_date = ?, depreciation = ?, useful_life_months = ?, salvage_minor = ?,
		warranty_end = ?, contract_ref = ?, supplier = ?, assigned_user_id = ?, location_ci_id = ?, product = ?, entitlements = ?,
		licence_metric = ? WHERE record_id = ?`, append(detailArgs(d), id)...)
	if db.IsUniqueViolation(err) {
		return tagConflict(d.AssetTag, "another asset")
	}
	if err != nil {
		return fmt.Errorf("update asset: %w", err)
	}
	return nil
}

// checkUser refuses an id that names no active account.
func checkUser(ctx context.Context, q db.Queryer, field string, id int64) error {
	var disabled bool
	err := q.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, id).Scan(&disabled)
	switch {
	case db.IsNoRows(err):
		return errs.Field(field, "no such user", id)
	case err != nil:
		return fmt.Errorf("check user %d: %w", id, err)
	case disabled:
		return errs.Field(field, "the account is disabled", id)
	}
	return nil
}

// ciName reads the name of a configuration item; a missing one is Invalid, naming field.
func ciName(ctx context.Context, q db.Queryer, field string, id int64) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, `SELECT name FROM cis WHERE id = ?`, id).Scan(&name)
	if db.IsNoRows(err) {
		return "", errs.Field(field, "no such configuration item", id)
	}
	if err != nil {
		return "", fmt.Errorf("read CI %d: %w", id, err)
	}
	return name, nil
}

// checkRefs checks that the user and CIs d names exist, where they differ from old's.
func checkRefs(ctx context.Context, q db.Queryer, d, old Details) error {
	var f fieldErrs
	collect := func(err error) error {
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			f = append(f, e.Fields...)
			return nil
		}
		return err
	}
	if d.AssignedUserID != 0 && d.AssignedUserID != old.AssignedUserID {
		if err := collect(checkUser(ctx, q, "body.assignedUserId", d.AssignedUserID)); err != nil {
			return err
		}
	}
	for _, ref := range []struct {
		loc      string
		id, prev int64
	}{{"body.ciId", d.CIID, old.CIID}, {"body.locationCiId", d.LocationCIID, old.LocationCIID}} {
		if ref.id != 0 && ref.id != ref.prev {
			if _, err := ciName(ctx, q, ref.loc, ref.id); collect(err) != nil {
				return err
			}
		}
	}
	return f.err()
}

// assetList describes how assets are listed, sorted and filtered.
var assetList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":             {SQL: "r.id", Kind: "int"},
		"number":         {SQL: "r.number", Sortable: true, Kind: "text"},
		"state":          {SQL: "r.state", Sortable: true, Kind: "text"},
		"assetTag":       {SQL: "COALESCE(a.asset_tag, '')", Sortable: true, Kind: "text"},
		"createdAt":      {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt":      {SQL: "r.updated_at", Sortable: true, Kind: "int"},
		"kind":           {SQL: "a.kind", Kind: "text"},
		"assignedUserId": {SQL: "a.assigned_user_id", Kind: "int"},
		"locationCiId":   {SQL: "a.location_ci_id", Kind: "int"},
		"product":        {SQL: "a.product", Kind: "text"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "r.id",
}

// listAssets pages the asset records matching f, in one count and one page query.
func listAssets(ctx context.Context, q db.Queryer, f ListFilter, p listing.Params) (items []record.Record, next string, total int64, err error) {
	var lf []listing.Filter
	if f.Kind != "" {
		lf = append(lf, listing.Filter{Field: "kind", Value: string(f.Kind)})
	}
	if f.State != "" {
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.AssignedUserID != 0 {
		lf = append(lf, listing.Filter{Field: "assignedUserId", Value: f.AssignedUserID})
	}
	if f.LocationCIID != 0 {
		lf = append(lf, listing.Filter{Field: "locationCiId", Value: f.LocationCIID})
	}
	if f.Product != "" {
		lf = append(lf, listing.Filter{Field: "product", Value: ProductKey(f.Product)})
	}
	lq, err := assetList.Build(p, lf)
	if err != nil {
		return nil, "", 0, err
	}
	where, args := lq.Where, lq.Args
	if qs := Identifier(f.Q); qs != "" {
		cond := `(a.asset_tag LIKE ? ESCAPE '\' OR a.serial_number LIKE ? ESCAPE '\')`
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
		like := escapeLike(qs) + "%"
		args = append(args, like, like)
	}
	const from = ` FROM records r JOIN assets a ON a.record_id = r.id`
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*)`+from+where, args...).Scan(&total); err != nil {
		return nil, "", 0, fmt.Errorf("count assets: %w", err)
	}
	page := lq.Page
	if where != "" && strings.HasPrefix(page, " WHERE ") {
		page = " AND " + strings.TrimPrefix(page, " WHERE ")
	}
	rows, err := q.QueryContext(ctx, `SELECT `+record.Columns+`, COALESCE(a.asset_tag, '')`+from+where+page, append(args, lq.PageArgs...)...)
	if err != nil {
		return nil, "", 0, fmt.Errorf("list assets: %w", err)
	}
	defer rows.Close()
	var tags []string
	for rows.Next() {
		var tag string
		r, err := record.Scan(rows, &tag)
		if err != nil {
			return nil, "", 0, fmt.Errorf("list assets: %w", err)
		}
		items = append(items, r)
		tags = append(tags, tag)
	}
	if err := rows.Err(); err != nil {
		return nil, "", 0, err
	}
	if len(items) > lq.Limit {
		items, tags = items[:lq.Limit], tags[:lq.Limit]
		last := items[lq.Limit-1]
		var vals []any
		for _, field := range lq.SortValues() {
			switch field {
			case "number":
				vals = append(vals, last.Number)
			case "state":
				vals = append(vals, last.State)
			case "assetTag":
				vals = append(vals, tags[lq.Limit-1])
			case "createdAt":
				vals = append(vals, last.CreatedAt.UnixMilli())
			case "updatedAt":
				vals = append(vals, last.UpdatedAt.UnixMilli())
			}
		}
		next = lq.NextCursor(vals, last.ID)
	}
	return items, next, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ---- disposals ----

const disposalCols = `record_id, method, disposed_on, certificate_ref, notes, COALESCE(recorded_by, 0), recorded_at, applied_at`

func scanDisposal(sc interface{ Scan(...any) error }) (int64, Disposal, error) {
	var id, on, rec, applied int64
	var d Disposal
	var method string
	err := sc.Scan(&id, &method, &on, &d.CertificateRef, &d.Notes, &d.RecordedBy, &rec, &applied)
	d.Method, d.Date, d.RecordedAt, d.AppliedAt = DisposalMethod(method), msDate(on), db.Time(rec), db.Time(applied)
	return id, d, err
}

// loadDisposal reads an asset's disposal record, or nil.
func loadDisposal(ctx context.Context, q db.Queryer, id int64) (*Disposal, error) {
	_, d, err := scanDisposal(q.QueryRowContext(ctx, `SELECT `+disposalCols+` FROM asset_disposals WHERE record_id = ?`, id))
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the disposal of %d: %w", id, err)
	}
	return &d, nil
}

// loadDisposals reads the disposal records of assets.
func loadDisposals(ctx context.Context, q db.Queryer, ids []int64) (map[int64]Disposal, error) {
	out := map[int64]Disposal{}
	for _, part := range chunks(ids, 500) {
		list, args := db.In(part)
		rows, err := q.QueryContext(ctx, `SELECT `+disposalCols+` FROM asset_disposals WHERE record_id IN `+list, args...)
		if err != nil {
			return nil, fmt.Errorf("read disposals: %w", err)
		}
		for rows.Next() {
			id, d, err := scanDisposal(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = d
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func hasDisposal(ctx context.Context, q db.Queryer, id int64) (bool, error) {
	d, err := loadDisposal(ctx, q, id)
	return d != nil, err
}

// saveDisposal writes (or replaces, while the asset is not yet disposed of) a disposal record.
func saveDisposal(ctx context.Context, tx *db.Tx, id int64, d Disposal, by, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO asset_disposals (record_id, method, disposed_on, certificate_ref, notes, recorded_by,
		recorded_at, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (record_id) DO UPDATE SET method = excluded.method, disposed_on = excluded.disposed_on,
		certificate_ref = excluded.certificate_ref, notes = excluded.notes, recorded_by = excluded.recorded_by,
		recorded_at = excluded.recorded_at, applied_at = 0`,
		id, string(d.Method), dateMS(d.Date), d.CertificateRef, d.Notes, db.NullID(by), now)
	if err != nil {
		return fmt.Errorf("save the disposal record: %w", err)
	}
	return nil
}

func stampDisposal(ctx context.Context, tx *db.Tx, id, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE asset_disposals SET applied_at = ? WHERE record_id = ?`, now, id); err != nil {
		return fmt.Errorf("stamp the disposal: %w", err)
	}
	return nil
}

// ---- remediation tasks ----

func insertRemediation(ctx context.Context, tx *db.Tx, id, assetID, auditID int64, reason AuditResult, observed string, location int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO asset_remediations (record_id, asset_id, audit_id, reason, observed, location_ci_id)
		VALUES (?, ?, ?, ?, ?, ?)`, id, db.NullID(assetID), db.NullID(auditID), string(reason), observed, db.NullID(location)); err != nil {
		return fmt.Errorf("insert remediation task: %w", err)
	}
	return nil
}

// openRemediations lists the numbers of the open remediation tasks of an asset for reason.
func openRemediations(ctx context.Context, q db.Queryer, assetID int64, reason string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.number FROM asset_remediations m JOIN records r ON r.id = m.record_id
		WHERE m.asset_id = ? AND m.reason = ? AND r.state = ? ORDER BY r.id`, assetID, reason, RemediationOpen)
	if err != nil {
		return nil, fmt.Errorf("find open remediation tasks: %w", err)
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
