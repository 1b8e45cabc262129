package asset

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// installationList describes how installations are listed.
var installationList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":           {SQL: "i.id", Sortable: true, Kind: "int"},
		"product":      {SQL: "i.product", Sortable: true, Kind: "text"},
		"discoveredAt": {SQL: "i.discovered_at", Sortable: true, Kind: "int"},
		"hostAssetId":  {SQL: "i.host_asset_id", Kind: "int"},
		"hostCiId":     {SQL: "i.host_ci_id", Kind: "int"},
	},
	DefaultSort: "product",
	IDColumn:    "i.id",
}

const installationCols = `i.id, i.product, i.version, COALESCE(h.number, ''), COALESCE(i.host_asset_id, 0), COALESCE(i.host_ci_id, 0),
	COALESCE(c.name, ''), i.discovered_at, i.source, COALESCE(i.created_by, 0), i.created_at`

const installationFrom = `asset_installations i LEFT JOIN records h ON h.id = i.host_asset_id LEFT JOIN cis c ON c.id = i.host_ci_id`

func scanInstallation(sc listing.Scanner) (SoftwareInstallation, error) {
	var in SoftwareInstallation
	var found, created int64
	err := sc.Scan(&in.ID, &in.Product, &in.Version, &in.HostAsset, &in.hostID, &in.HostCIID, &in.HostCIName, &found, &in.Source,
		&in.CreatedBy, &created)
	in.DiscoveredAt, in.CreatedAt = db.Time(found), db.Time(created)
	return in, err
}

var installationSource = listing.Source[SoftwareInstallation]{
	Spec: installationList, From: installationFrom, Columns: installationCols, Scan: scanInstallation,
	Key: func(in SoftwareInstallation, field string) any {
		switch field {
		case "id":
			return in.ID
		case "product":
			return in.Product
		case "discoveredAt":
			return in.DiscoveredAt.UnixMilli()
		}
		return nil
	},
	ID: func(in SoftwareInstallation) int64 { return in.ID },
}

func installationFields(in SoftwareInstallation) map[string]any {
	return map[string]any{"product": in.Product, "version": in.Version, "hostAsset": in.HostAsset, "hostCiId": in.HostCIID,
		"discoveredAt": in.DiscoveredAt.UnixMilli(), "source": in.Source}
}

var installationAudited = []string{"product", "version", "hostAsset", "hostCiId", "discoveredAt", "source"}

// validateInstallation checks and normalises an installation to record.
func validateInstallation(in *NewSoftwareInstallation) error {
	var f fieldErrs
	raw := in.Product
	in.Product = ProductKey(in.Product)
	if in.Product == "" {
		f.add("body.product", "the product's name or key, with at least one letter or digit", raw)
	}
	f.text("body.product", in.Product, maxProduct)
	in.Version = strings.TrimSpace(in.Version)
	f.text("body.version", in.Version, 100)
	in.Source = strings.TrimSpace(in.Source)
	f.text("body.source", in.Source, maxShort)
	in.HostAsset = record.NormalizeNumber(in.HostAsset)
	if in.HostAsset == "" && in.HostCIID == 0 {
		f.add("body.hostAsset", "name the host: an asset number, a host CI id (hostCiId), or both", nil)
	}
	if in.HostCIID < 0 {
		f.add("body.hostCiId", "a CI id", in.HostCIID)
	}
	return f.err()
}

// RecordInstallation records a discovered software installation on a host
// asset, a host CI or both. Monitoring installed software is part of Monitor,
// Audit and Reconcile Asset Records (AM4): the caller needs R or A for it.
func (s *Service) RecordInstallation(ctx context.Context, in NewSoftwareInstallation) (out SoftwareInstallation, err error) {
	defer errs.Wrap(&err, "record an installation")
	if err := validateInstallation(&in); err != nil {
		return out, err
	}
	var host record.Record
	if in.HostAsset != "" {
		if host, err = s.get(ctx, in.HostAsset); errs.Is(err, errs.NotFound) {
			return out, errs.Field("body.hostAsset", "no such asset", in.HostAsset)
		} else if err != nil {
			return out, err
		}
	}
	if _, err := s.records.Authorize(ctx, Process, ActAudit, "record an installation of "+in.Product+" in",
		"asset_installation/new", raci.Scope{TeamID: host.TeamID, ServiceID: host.ServiceID}); err != nil {
		return out, err
	}
	p := auth.PrincipalFrom(ctx)
	now := s.clock.Now()
	found := in.DiscoveredAt
	if found.IsZero() {
		found = now
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out = SoftwareInstallation{Product: in.Product, Version: in.Version, HostAsset: host.Number, HostCIID: in.HostCIID,
			DiscoveredAt: found.UTC().Truncate(time.Millisecond), Source: in.Source, CreatedBy: p.UserID, CreatedAt: now.Truncate(time.Millisecond), hostID: host.ID}
		if in.HostCIID != 0 {
			if out.HostCIName, err = ciName(ctx, tx, "body.hostCiId", in.HostCIID); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO asset_installations (product, version, host_asset_id, host_ci_id, discovered_at,
			source, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, out.Product, out.Version, db.NullID(host.ID),
			db.NullID(in.HostCIID), out.DiscoveredAt.UnixMilli(), out.Source, db.NullID(p.UserID), now.UnixMilli()).Scan(&out.ID); err != nil {
			return fmt.Errorf("insert installation: %w", err)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "asset.installation.create", ObjectType: "asset_installation",
			ObjectID: strconv.FormatInt(out.ID, 10), Changes: audit.Diff(installationAudited, nil, installationFields(out))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "asset.installation_recorded",
			Subject: "asset_installation/" + strconv.FormatInt(out.ID, 10), Data: out})
	})
	return out, err
}

// DeleteInstallation removes an installation that is gone or was recorded in
// error. It performs AM4, like recording one.
func (s *Service) DeleteInstallation(ctx context.Context, id int64) (err error) {
	defer errs.Wrap(&err, "delete installation %d", id)
	object := "asset_installation/" + strconv.FormatInt(id, 10)
	old, err := s.SoftwareInstallation(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.records.Authorize(ctx, Process, ActAudit, "delete", object, raci.Scope{}); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM asset_installations WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete installation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no installation %d", id)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "asset.installation.delete", ObjectType: "asset_installation",
			ObjectID: strconv.FormatInt(id, 10), Changes: audit.Diff(installationAudited, installationFields(old), nil)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "asset.installation_deleted", Subject: object, Data: old})
	})
}

// SoftwareInstallation returns an installation by its id.
func (s *Service) SoftwareInstallation(ctx context.Context, id int64) (out SoftwareInstallation, err error) {
	out, err = scanInstallation(s.db.QueryRowContext(ctx, `SELECT `+installationCols+` FROM `+installationFrom+` WHERE i.id = ?`, id))
	if db.IsNoRows(err) {
		return out, errs.E(errs.NotFound, "no installation %d", id)
	}
	if err != nil {
		return out, fmt.Errorf("read installation %d: %w", id, err)
	}
	return out, nil
}

// Installations pages the installations matching f, by product unless p sorts otherwise.
func (s *Service) Installations(ctx context.Context, f SoftwareInstallationFilter, p listing.Params) (page listing.Page[SoftwareInstallation], total int64, err error) {
	defer errs.Wrap(&err, "list installations")
	var lf []listing.Filter
	if f.Product != "" {
		lf = append(lf, listing.Filter{Field: "product", Value: ProductKey(f.Product)})
	}
	if f.HostAsset != "" {
		r, err := s.get(ctx, f.HostAsset)
		if errs.Is(err, errs.NotFound) {
			return listing.Page[SoftwareInstallation]{Items: []SoftwareInstallation{}}, 0, errs.Field("query.hostAsset", "no such asset", f.HostAsset)
		}
		if err != nil {
			return page, 0, err
		}
		lf = append(lf, listing.Filter{Field: "hostAssetId", Value: r.ID})
	}
	if f.HostCIID != 0 {
		lf = append(lf, listing.Filter{Field: "hostCiId", Value: f.HostCIID})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, installationSource, p, lf)
}

// Compliance reports each product's licence position (see complianceReport);
// product, when given, narrows it to that product. Installations on a host
// asset that is disposed of no longer count.
func (s *Service) Compliance(ctx context.Context, product string) (out []LicencePosition, err error) {
	defer errs.Wrap(&err, "report licence compliance")
	key := ProductKey(product)
	if strings.TrimSpace(product) != "" && key == "" {
		return nil, errs.Field("query.product", "a product name or key", product)
	}
	lw, iw, args := ``, ``, []any{}
	if key != "" {
		lw, iw, args = ` AND a.product = ?`, ` AND i.product = ?`, []any{key}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT a.product, a.entitlements, a.licence_metric, r.state FROM assets a
		JOIN records r ON r.id = a.record_id WHERE a.kind = 'licence'`+lw, args...)
	if err != nil {
		return nil, fmt.Errorf("read licences: %w", err)
	}
	var lic []licenceLine
	for rows.Next() {
		var l licenceLine
		var metric string
		if err := rows.Scan(&l.Product, &l.Seats, &metric, &l.State); err != nil {
			rows.Close()
			return nil, err
		}
		l.Metric = Metric(metric)
		lic = append(lic, l)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	// Counted in SQL, one row per product: the report's cost follows the
	// number of products, not of installations.
	rows, err = s.db.QueryContext(ctx, `SELECT i.product, COUNT(*), SUM(CASE WHEN a.assigned_user_id IS NULL THEN 1 ELSE 0 END),
		COUNT(DISTINCT a.assigned_user_id) FROM asset_installations i
		LEFT JOIN assets a ON a.record_id = i.host_asset_id LEFT JOIN records h ON h.id = i.host_asset_id
		WHERE (h.state IS NULL OR h.state <> ?)`+iw+` GROUP BY i.product`, append([]any{Disposed}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read installations: %w", err)
	}
	defer rows.Close()
	var inst []installTally
	for rows.Next() {
		var t installTally
		if err := rows.Scan(&t.Product, &t.Installs, &t.Anon, &t.Users); err != nil {
			return nil, err
		}
		inst = append(inst, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return complianceReport(lic, inst), nil
}
