package cmdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// UnauthorisedChange is a change to a CI or its relations that no approved
// change covered when it was made.
type UnauthorisedChange struct {
	ID        int64  `json:"id"`
	CIID      int64  `json:"ciId"`
	CIName    string `json:"ciName"`
	CIVersion int64  `json:"ciVersion"`
	// What names the changed fields or relations.
	What string `json:"what"`
	// ChangeRef is the change the editor named, which was not approved; empty when none was named.
	ChangeRef  string    `json:"changeRef,omitempty"`
	ActorID    int64     `json:"actorId,omitempty"`
	DetectedAt time.Time `json:"detectedAt"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
	ResolvedBy int64     `json:"resolvedBy,omitempty"`
	Resolution string    `json:"resolution,omitempty"`
}

// flagUnauthorised asks the change authority about a change just made to a CI
// and, when no approved change covers it, flags it in the same transaction.
func (s *Service) flagUnauthorised(ctx context.Context, tx *db.Tx, ciID, version int64, what, ref string) error {
	ok, err := s.changes.Approved(ctx, ciID, strings.TrimSpace(ref))
	if err != nil {
		return fmt.Errorf("ask change management about CI %d: %w", ciID, err)
	}
	if ok {
		return nil
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO ci_unauthorised_changes (ci_id, ci_version, what, change_ref, actor_id, detected_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, ciID, version, what, strings.TrimSpace(ref), actor(ctx), s.now()).Scan(&id); err != nil {
		return fmt.Errorf("flag unauthorised change of CI %d: %w", ciID, err)
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.unauthorised-change", Subject: ciObject(ciID),
		Data: map[string]any{"id": id, "ciId": ciID, "ciVersion": version, "what": what, "changeRef": ref}})
}

const unauthorisedColumns = `u.id, u.ci_id, c.name, u.ci_version, u.what, u.change_ref, COALESCE(u.actor_id, 0), u.detected_at, u.resolved_at,
	COALESCE(u.resolved_by, 0), u.resolution`

func scanUnauthorised(r listing.Scanner) (UnauthorisedChange, error) {
	var u UnauthorisedChange
	var det, res int64
	err := r.Scan(&u.ID, &u.CIID, &u.CIName, &u.CIVersion, &u.What, &u.ChangeRef, &u.ActorID, &det, &res, &u.ResolvedBy, &u.Resolution)
	u.DetectedAt = ms(det)
	if res != 0 {
		u.ResolvedAt = ms(res)
	}
	return u, err
}

var unauthorisedSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":         {SQL: "u.id", Sortable: true, Kind: "int"},
		"detectedAt": {SQL: "u.detected_at", Sortable: true, Kind: "int"},
	},
	DefaultSort: "-id",
	IDColumn:    "u.id",
}

// UnauthorisedFilter narrows the list of unauthorised changes.
type UnauthorisedFilter struct {
	// CIID keeps one CI's flags.
	CIID int64
	// Open keeps the unresolved ones only.
	Open bool
}

// UnauthorisedChanges lists flagged changes.
func (s *Service) UnauthorisedChanges(ctx context.Context, f UnauthorisedFilter, p listing.Params) (listing.Page[UnauthorisedChange], int64, error) {
	var fs []listing.Filter
	if f.CIID != 0 {
		fs = append(fs, listing.Filter{Where: "u.ci_id = ?", Args: []any{f.CIID}})
	}
	if f.Open {
		fs = append(fs, listing.Filter{Where: "u.resolved_at = 0"})
	}
	src := listing.Source[UnauthorisedChange]{Spec: unauthorisedSpec, From: "ci_unauthorised_changes u JOIN cis c ON c.id = u.ci_id",
		Columns: unauthorisedColumns, Scan: scanUnauthorised,
		Key: func(u UnauthorisedChange, field string) any {
			if field == "detectedAt" {
				return u.DetectedAt.UnixMilli()
			}
			return u.ID
		},
		ID: func(u UnauthorisedChange) int64 { return u.ID }}
	return listing.Fetch(ctx, s.db, src, p, fs)
}

// ResolveUnauthorised closes a flag with the outcome of its investigation
// (CfM5): the change was retrospectively authorised, reverted, or the like.
func (s *Service) ResolveUnauthorised(ctx context.Context, id int64, resolution string) (out UnauthorisedChange, err error) {
	defer errs.Wrap(&err, "resolve unauthorised change %d", id)
	resolution = strings.TrimSpace(resolution)
	if n := len([]rune(resolution)); n == 0 || n > 2000 {
		return out, errs.Field("body.resolution", "say how the change was resolved, in 1 to 2000 characters", nil)
	}
	if _, err := s.records.Authorize(ctx, Process, ActVerify, "resolve", fmt.Sprintf("ci-unauthorised-change/%d", id), raci.Scope{}); err != nil {
		return out, err
	}
	p := auth.PrincipalFrom(ctx)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ci_unauthorised_changes SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ? AND resolved_at = 0`,
			s.now(), p.UserID, resolution, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var open int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ci_unauthorised_changes WHERE id = ?`, id).Scan(&open); err != nil {
				return err
			}
			if open == 0 {
				return errs.E(errs.NotFound, "no unauthorised change %d", id)
			}
			return errs.E(errs.Conflict, "unauthorised change %d is already resolved", id)
		}
		if out, err = scanUnauthorised(tx.QueryRowContext(ctx, `SELECT `+unauthorisedColumns+` FROM ci_unauthorised_changes u JOIN cis c ON c.id = u.ci_id WHERE u.id = ?`, id)); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci.unauthorised-change.resolve", ObjectType: "ci", ObjectID: ciObject(out.CIID),
			Changes: []audit.Change{{Field: "unauthorisedChange", New: id}, {Field: "resolution", New: resolution}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.unauthorised-change.resolved", Subject: ciObject(out.CIID), Data: out})
	})
	return out, err
}
