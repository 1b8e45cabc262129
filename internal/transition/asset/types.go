package asset

import (
	"context"
	"fmt"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// assetType is the asset's lifecycle. Every step performs an AM activity:
//
//	ordered ─receive (AM2)→ received ─store (AM3)→ in_storage ─deploy (AM3)→ deployed ─repair (AM3)→ in_repair
//	in_repair ─store/deploy (AM3)→ in_storage/deployed; deployed ─store (AM3)→ in_storage
//	in_storage, deployed, in_repair, missing ─retire (AM6)→ retired ─dispose (AM6)→ disposed
//	any state but missing and disposed ─report_missing (AM4)→ missing ─found (AM5)→ in_storage
//
// Deploying needs an assigned user or a location; disposing needs the
// disposal record (Service.Dispose gives it with the step).
func (s *Service) assetType() record.Type {
	return record.Type{Name: AssetType, Label: "Asset", Prefix: AssetPrefix, Process: Process, Initial: Ordered,
		States: []record.State{{Name: Ordered, Label: "Ordered"}, {Name: Received, Label: "Received"},
			{Name: InStorage, Label: "In storage"}, {Name: Deployed, Label: "Deployed"}, {Name: InRepair, Label: "In repair"},
			{Name: Missing, Label: "Missing"}, {Name: Retired, Label: "Retired"}, {Name: Disposed, Label: "Disposed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "receive", From: []string{Ordered}, To: Received, Activity: ActRecord, Label: "Receive"},
			{Action: "store", From: []string{Received, Deployed, InRepair}, To: InStorage, Activity: ActMaintain, Label: "Put in storage"},
			{Action: "deploy", From: []string{InStorage, InRepair}, To: Deployed, Activity: ActMaintain, Label: "Deploy"},
			{Action: "repair", From: []string{Deployed, InStorage}, To: InRepair, Activity: ActMaintain, Label: "Send for repair"},
			{Action: "retire", From: []string{InStorage, Deployed, InRepair, Missing}, To: Retired, Activity: ActRetire, Label: "Retire"},
			{Action: "dispose", From: []string{Retired}, To: Disposed, Activity: ActRetire, Label: "Dispose of"},
			{Action: "report_missing", From: []string{Ordered, Received, InStorage, Deployed, InRepair, Retired}, To: Missing,
				Activity: ActAudit, Label: "Report missing"},
			{Action: "found", From: []string{Missing}, To: InStorage, Activity: ActRemediate, Label: "Found"},
		},
		CreateActivity: ActRecord, UpdateActivity: ActMaintain, AssignActivity: ActMaintain,
		Editable: func(r record.Record) error {
			if r.State == Disposed {
				return errs.E(errs.Conflict, "%s is disposed of; its record is closed", r.Number)
			}
			return nil
		},
		Check: s.checkAsset, AfterApply: s.afterAsset}
}

// remediationType is the remediation task an inventory audit opens (AM4) for
// an asset it found missing or unexpected: open → resolved or closed, both
// Conduct Asset Remediation (AM5).
func (s *Service) remediationType() record.Type {
	return record.Type{Name: RemediationType, Label: "Asset remediation", Prefix: RemediationPrefix, Process: Process,
		Initial: RemediationOpen,
		States: []record.State{{Name: RemediationOpen, Label: "Open"}, {Name: RemediationResolved, Label: "Resolved", Terminal: true},
			{Name: RemediationClosed, Label: "Closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "resolve", From: []string{RemediationOpen}, To: RemediationResolved, Activity: ActRemediate, Label: "Resolve"},
			{Action: "close", From: []string{RemediationOpen}, To: RemediationClosed, Activity: ActRemediate, Label: "Close without action"},
		},
		CreateActivity: ActAudit, UpdateActivity: ActRemediate, AssignActivity: ActRemediate}
}

// disposalKey carries the disposal record Service.Dispose gives with the dispose step.
type disposalKey struct{}

// givenDisposal is a disposal record on its way into the step of one asset.
type givenDisposal struct {
	number   string
	disposal Disposal
}

// checkAsset refuses a step the asset is not ready for: deploying needs an
// assigned user or a location; disposing needs the disposal record. When
// Service.Dispose gives the disposal record with the step, it is written here:
// Check is the hook that runs inside the kernel's step transaction both when
// the step applies at once and when it is stored to wait for approval or
// consultation, so the record commits (or rolls back) with the step either way.
func (s *Service) checkAsset(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	switch tr.Action {
	case "deploy":
		rows, err := loadDetails(ctx, q, []int64{r.ID})
		if err != nil {
			return err
		}
		d := rows[r.ID].Details
		if d.AssignedUserID == 0 && d.LocationCIID == 0 {
			return errs.E(errs.Conflict, "deploying %s needs an assigned user or a location: set assignedUserId or locationCiId first", r.Number)
		}
	case "dispose":
		if g, ok := ctx.Value(disposalKey{}).(givenDisposal); ok && g.number == r.Number {
			tx, ok := q.(*db.Tx)
			if !ok {
				return fmt.Errorf("the dispose check of %s runs outside a transaction", r.Number)
			}
			return s.recordDisposal(ctx, tx, r, g.disposal)
		}
		has, err := hasDisposal(ctx, q, r.ID)
		if err != nil {
			return err
		}
		if !has {
			return errs.E(errs.Conflict, "disposing of %s needs its disposal record (method, date, certificate reference): "+
				"POST /api/v1/assets/%s/dispose", r.Number, r.Number)
		}
	}
	return nil
}

// recordDisposal writes the disposal record given with the dispose step and audits it.
func (s *Service) recordDisposal(ctx context.Context, tx *db.Tx, r record.Record, d Disposal) error {
	var by int64
	if p := auth.PrincipalFrom(ctx); p != nil {
		by = p.UserID
	}
	old, err := loadDisposal(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if err := saveDisposal(ctx, tx, r.ID, d, by, s.clock.Now().UnixMilli()); err != nil {
		return err
	}
	var before map[string]any
	if old != nil {
		before = disposalFields(*old)
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "asset.disposal.record", ObjectType: "record", ObjectID: r.Number,
		Changes: audit.Diff(disposalAudited, before, disposalFields(d))})
	return nil
}

var disposalAudited = []string{"method", "date", "certificateRef", "notes"}

func disposalFields(d Disposal) map[string]any {
	return map[string]any{"method": string(d.Method), "date": d.Date, "certificateRef": d.CertificateRef, "notes": d.Notes}
}

// afterAsset completes a step that moved an asset: disposing stamps the
// disposal record and announces it; finding a missing asset resolves the
// remediation tasks open for it (a follow-up of the same AM5 activity).
func (s *Service) afterAsset(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	switch a.Transition.Action {
	case "dispose":
		now := s.clock.Now().UnixMilli()
		if err := stampDisposal(ctx, tx, a.Record.ID, now); err != nil {
			return err
		}
		d, err := loadDisposal(ctx, tx, a.Record.ID)
		if err != nil || d == nil {
			return fmt.Errorf("the disposal record of %s vanished: %v", a.Record.Number, err)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "asset.dispose", ObjectType: "record", ObjectID: a.Record.Number,
			Changes: audit.Diff(disposalAudited, nil, disposalFields(*d))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "asset.disposed", Subject: "record/" + a.Record.Number,
			Data: map[string]any{"number": a.Record.Number, "disposal": d}})
	case "found":
		open, err := openRemediations(ctx, tx, a.Record.ID, string(NotObserved))
		if err != nil {
			return err
		}
		for _, n := range open {
			if _, err := s.records.FollowUp(ctx, tx, n, "resolve", a); err != nil {
				return err
			}
		}
	}
	return nil
}
