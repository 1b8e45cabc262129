package servicelevel

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// Recomputer is told, inside the writing transaction, that an agreement's
// measured targets changed (the tracker queues a recompute of its clocks).
type Recomputer interface {
	AgreementChanged(ctx context.Context, tx *db.Tx, agreementID int64) error
}

// Deps are what service level management needs.
type Deps struct {
	DB *db.DB
	// Records is the kernel agreements, reviews and plans are records of; its RACI guard decides every step.
	Records *record.Service
	Trail   *audit.Trail
	Events  *outbox.Outbox
	Clock   clock.Clock
	// RACI is the guard's service; optional (the kernel's guard is used through Records).
	RACI *raci.Service
}

// Service holds the use cases of service level management. Each mutation is
// one transaction, with its audit entries and outbox events.
type Service struct {
	db      *db.DB
	records *record.Service
	trail   *audit.Trail
	events  *outbox.Outbox
	clock   clock.Clock

	mu         sync.Mutex
	recomputer Recomputer
	cache      targetCache
}

// New returns service level management over d and registers its record types with the kernel.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil {
		return nil, fmt.Errorf("servicelevel: DB, Records, Trail and Events are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock}
	for _, t := range []record.Type{s.agreementType(), s.reviewType(), s.planType()} {
		if err := d.Records.Register(t); err != nil {
			return nil, fmt.Errorf("register %s: %w", t.Name, err)
		}
	}
	return s, nil
}

// SetRecomputer sets who is told when an agreement's measured targets change.
func (s *Service) SetRecomputer(r Recomputer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recomputer = r
}

// activity is the SLM activity drafting and changing an agreement of kind k performs.
func activity(k Kind) string {
	if k == SLA {
		return ActCapture
	}
	return ActUnderpin
}

// get reads a record of typeName the caller may see; a record of another type is not found.
func (s *Service) get(ctx context.Context, typeName, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != typeName {
		return r, errs.E(errs.NotFound, "no %s %s", strings.ReplaceAll(typeName, "_", " "), record.NormalizeNumber(number))
	}
	return r, nil
}

// authorize asks the SLM RACI whether the caller may perform activity on r.
// A refusal is audited and Forbidden. Never call it inside a transaction.
func (s *Service) authorize(ctx context.Context, r record.Record, activity, verb string) error {
	_, err := s.records.Authorize(ctx, Process, activity, verb, "record/"+r.Number, raci.Scope{TeamID: r.TeamID, ServiceID: r.ServiceID})
	return err
}

// amendAs changes a record through the kernel in one transaction as the
// performer of activity: the guard is asked for activity first, and the
// kernel then lets the change through.
func (s *Service) amendAs(ctx context.Context, r record.Record, version int64, activity, verb string, fields record.Update,
	apply func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error)) (record.Record, error) {
	if err := s.authorize(ctx, r, activity, verb); err != nil {
		return r, err
	}
	return s.records.Amend(ctx, r.Number, record.Amendment{Version: version, Verb: verb, Fields: fields,
		Permit: func(*auth.Principal, record.Record) bool { return true }, Apply: apply})
}

// agreement reads an agreement record and its kind.
func (s *Service) agreement(ctx context.Context, number string) (record.Record, Kind, error) {
	r, err := s.get(ctx, AgreementType, number)
	if err != nil {
		return r, "", err
	}
	f, err := loadAgreementFacts(ctx, s.db, r.ID)
	return r, f.Kind, err
}

// detailFields is the audited view of an agreement's own fields.
func detailFields(d AgreementDetails) map[string]any {
	return map[string]any{"customer": d.Customer, "supplier": d.Supplier, "calendarId": d.CalendarID, "startsOn": d.StartsOn,
		"endsOn": d.EndsOn, "reviewMonths": d.ReviewMonths, "notes": d.Notes}
}

var detailAudited = []string{"customer", "supplier", "calendarId", "startsOn", "endsOn", "reviewMonths", "notes"}

// CreateAgreement drafts an agreement: an SLA (performing SLM2) or an OLA or
// UC (SLM4), on a business calendar, for services. An unknown calendar or
// service is Invalid, naming the field.
func (s *Service) CreateAgreement(ctx context.Context, in NewAgreement) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "draft an agreement")
	if !validKind(in.Kind) {
		return out, errs.Field("body.kind", "SLA, OLA or UC", in.Kind)
	}
	var f fieldErrs
	if err := validateDetails(&in.AgreementDetails); err != nil {
		e, _ := errs.As(err)
		f = append(f, e.Fields...)
	}
	services, err := normalizeServices("body.services", in.Services)
	if err != nil {
		e, _ := errs.As(err)
		f = append(f, e.Fields...)
	}
	if err := f.err(); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, activity(in.Kind), "draft", AgreementType, raci.Scope{}); err != nil {
		return out, err
	}
	var number string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var f fieldErrs
		for _, check := range []func() error{
			func() error { return checkCalendar(ctx, tx, "body.calendarId", in.CalendarID) },
			func() error { return checkServices(ctx, tx, "body.services", services) },
		} {
			err := check()
			if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
				f = append(f, e.Fields...)
			} else if err != nil {
				return err
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		r, err := s.records.CreateIn(ctx, tx, AgreementType, record.NewRecord{Title: in.Title, Description: in.Description,
			Marking: in.Marking,
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				changes := append([]audit.Change{{Field: "kind", New: string(in.Kind)}},
					audit.Diff(detailAudited, map[string]any{}, detailFields(in.AgreementDetails))...)
				if len(services) > 0 {
					changes = append(changes, audit.Change{Field: "services", New: services})
				}
				if err := insertAgreement(ctx, tx, r.ID, in.Kind, in.AgreementDetails); err != nil {
					return nil, err
				}
				return changes, setServices(ctx, tx, r.ID, services)
			}})
		if err != nil {
			return err
		}
		number = r.Number
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.Agreement(ctx, number)
}

// UpdateAgreement changes an agreement's text and own fields (SLM2 for an
// SLA, SLM4 for an OLA or UC). An archived agreement does not change.
func (s *Service) UpdateAgreement(ctx context.Context, number string, version int64, c AgreementChange) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "update agreement %s", number)
	r, kind, err := s.agreement(ctx, number)
	if err != nil {
		return out, err
	}
	old, err := loadAgreement(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	d := old.AgreementDetails
	for _, p := range []struct {
		dst *string
		src *string
	}{{&d.Customer, c.Customer}, {&d.Supplier, c.Supplier}, {&d.StartsOn, c.StartsOn}, {&d.EndsOn, c.EndsOn}, {&d.Notes, c.Notes}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if c.CalendarID != nil {
		d.CalendarID = *c.CalendarID
	}
	if c.ReviewMonths != nil {
		d.ReviewMonths = *c.ReviewMonths
		if d.ReviewMonths == 0 {
			return out, errs.Field("body.reviewMonths", "1 to 120 months", 0)
		}
	}
	if err := validateDetails(&d); err != nil {
		return out, err
	}
	_, err = s.amendAs(ctx, r, version, activity(kind), "change", record.Update{Title: c.Title, Description: c.Description, Marking: c.Marking},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			now, err := loadAgreement(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			if d.CalendarID != now.CalendarID {
				if err := checkCalendar(ctx, tx, "body.calendarId", d.CalendarID); err != nil {
					return nil, err
				}
			}
			changes := audit.Diff(detailAudited, detailFields(now.AgreementDetails), detailFields(d))
			if len(changes) == 0 {
				return nil, nil
			}
			if err := updateAgreement(ctx, tx, cur.ID, d); err != nil {
				return nil, err
			}
			if cur.State == Agreed && (d.CalendarID != now.CalendarID || d.StartsOn != now.StartsOn || d.EndsOn != now.EndsOn) {
				if err := s.targetsChanged(ctx, tx, cur.ID); err != nil {
					return nil, err
				}
			}
			return changes, nil
		})
	if err != nil {
		return out, err
	}
	return s.Agreement(ctx, r.Number)
}

// SetTargets replaces an agreement's targets (a target given with its id is
// changed in place, one without is added, one left out is removed with its
// terms). Invalid targets are refused naming body.targets[i].<field>; an
// agreed agreement keeps at least one target.
func (s *Service) SetTargets(ctx context.Context, number string, version int64, ts []Target) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "set the targets of %s", number)
	r, kind, err := s.agreement(ctx, number)
	if err != nil {
		return out, err
	}
	if ts == nil {
		ts = []Target{}
	}
	if err := validateTargets(ts); err != nil {
		return out, err
	}
	_, err = s.amendAs(ctx, r, version, activity(kind), "change the targets of", record.Update{},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			if cur.State == Agreed && len(ts) == 0 {
				return nil, errs.E(errs.Conflict, "%s is agreed: it keeps at least one target (revise it first to start over)", cur.Number)
			}
			if err := checkTargetRefs(ctx, tx, ts); err != nil {
				return nil, err
			}
			old, err := loadTargets(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			if err := replaceTargets(ctx, tx, cur.ID, ts); err != nil {
				return nil, err
			}
			if cur.State == Agreed {
				if err := s.targetsChanged(ctx, tx, cur.ID); err != nil {
					return nil, err
				}
			}
			return []audit.Change{{Field: "targets", Old: old, New: ts}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Agreement(ctx, r.Number)
}

// SetTerms replaces an agreement's terms (penalties and credits). A term names
// one of the agreement's targets by id, or none for the agreement as a whole.
func (s *Service) SetTerms(ctx context.Context, number string, version int64, ts []Term) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "set the terms of %s", number)
	r, kind, err := s.agreement(ctx, number)
	if err != nil {
		return out, err
	}
	if ts == nil {
		ts = []Term{}
	}
	_, err = s.amendAs(ctx, r, version, activity(kind), "change the terms of", record.Update{},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			targets, err := loadTargets(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			if err := validateTerms(ts, targets); err != nil {
				return nil, err
			}
			old, err := loadTerms(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			if err := replaceTerms(ctx, tx, cur.ID, ts); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "terms", Old: old[cur.ID], New: ts}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Agreement(ctx, r.Number)
}

// SetServices replaces the services an agreement covers. An agreed SLA keeps at least one.
func (s *Service) SetServices(ctx context.Context, number string, version int64, ids []int64) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "set the services of %s", number)
	r, kind, err := s.agreement(ctx, number)
	if err != nil {
		return out, err
	}
	ids, err = normalizeServices("body.services", ids)
	if err != nil {
		return out, err
	}
	_, err = s.amendAs(ctx, r, version, activity(kind), "change the services of", record.Update{},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			if cur.State == Agreed && kind == SLA && len(ids) == 0 {
				return nil, errs.E(errs.Conflict, "%s is an agreed SLA: it covers at least one service", cur.Number)
			}
			old, err := loadServices(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			oldIDs := make([]int64, len(old))
			for i, o := range old {
				oldIDs[i] = o.ID
			}
			var fresh []int64
			for _, id := range ids {
				if !slices.Contains(oldIDs, id) {
					fresh = append(fresh, id)
				}
			}
			for _, id := range fresh {
				if err := checkService(ctx, tx, fmt.Sprintf("body.services[%d]", slices.Index(ids, id)), id); err != nil {
					return nil, err
				}
			}
			if err := setServices(ctx, tx, cur.ID, ids); err != nil {
				return nil, err
			}
			if cur.State == Agreed {
				if err := s.targetsChanged(ctx, tx, cur.ID); err != nil {
					return nil, err
				}
			}
			return []audit.Change{{Field: "services", Old: oldIDs, New: ids}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Agreement(ctx, r.Number)
}

// SetUnderpins replaces the OLAs and UCs (by number) that underpin an SLA
// (SLM4: reviewing and defining the supporting agreements). Only an SLA is
// underpinned, only by OLAs and UCs that are not archived.
func (s *Service) SetUnderpins(ctx context.Context, number string, version int64, numbers []string) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "set the underpinning agreements of %s", number)
	r, kind, err := s.agreement(ctx, number)
	if err != nil {
		return out, err
	}
	if kind != SLA {
		return out, errs.E(errs.Conflict, "%s is an %s: only an SLA is underpinned by OLAs and UCs", r.Number, kind)
	}
	if len(numbers) > maxUnderpins {
		return out, errs.Field("body.underpins", fmt.Sprintf("at most %d agreements", maxUnderpins), len(numbers))
	}
	_, err = s.amendAs(ctx, r, version, ActUnderpin, "change the underpinning agreements of", record.Update{},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			refs, err := agreementRefs(ctx, tx, "body.underpins", numbers)
			if err != nil {
				return nil, err
			}
			var f fieldErrs
			ids := make([]int64, 0, len(refs))
			for i, a := range refs {
				loc := fmt.Sprintf("body.underpins[%d]", i)
				switch {
				case a.Kind == SLA:
					f.add(loc, "an SLA is underpinned by OLAs and UCs, not by another SLA", a.Number)
				case a.State == Archived:
					f.add(loc, "the agreement is archived", a.Number)
				case slices.Contains(ids, a.ID):
					f.add(loc, "listed twice", a.Number)
				}
				ids = append(ids, a.ID)
			}
			if err := f.err(); err != nil {
				return nil, err
			}
			old, err := loadRelated(ctx, tx, cur.ID, true)
			if err != nil {
				return nil, err
			}
			oldNumbers, newNumbers := make([]string, len(old)), make([]string, len(refs))
			for i, o := range old {
				oldNumbers[i] = o.Number
			}
			for i, a := range refs {
				newNumbers[i] = a.Number
			}
			if err := setUnderpins(ctx, tx, cur.ID, ids); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "underpins", Old: oldNumbers, New: newNumbers}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Agreement(ctx, r.Number)
}

// Agreement returns an agreement by its number with its services, the OLAs
// and UCs that underpin it (an SLA) or the SLAs it underpins (an OLA or UC),
// its targets and its terms.
func (s *Service) Agreement(ctx context.Context, number string) (out AgreementDetail, err error) {
	defer errs.Wrap(&err, "read agreement %s", number)
	r, err := s.get(ctx, AgreementType, number)
	if err != nil {
		return out, err
	}
	if out.Agreement, err = loadAgreement(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	if out.Services, err = loadServices(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	if out.Underpins, err = loadRelated(ctx, s.db, r.ID, true); err != nil {
		return out, err
	}
	if out.UnderpinnedSLAs, err = loadRelated(ctx, s.db, r.ID, false); err != nil {
		return out, err
	}
	if out.Targets, err = loadTargets(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	terms, err := loadTerms(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	out.Terms = terms[r.ID]
	if out.Terms == nil {
		out.Terms = []Term{}
	}
	return out, nil
}

// stateNames lists the state names of a registered type.
func (s *Service) stateNames(typeName string) ([]string, error) {
	t, err := s.records.Type(typeName)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(t.States))
	for i, st := range t.States {
		names[i] = st.Name
	}
	return names, nil
}

// checkState refuses a state filter that names no state of typeName.
func (s *Service) checkState(typeName, state string) error {
	if state == "" {
		return nil
	}
	names, err := s.stateNames(typeName)
	if err != nil {
		return err
	}
	if !slices.Contains(names, state) {
		return errs.Field("query.state", "one of "+strings.Join(names, ", "), state)
	}
	return nil
}

// Agreements pages the agreements matching f, by number unless p sorts otherwise.
func (s *Service) Agreements(ctx context.Context, f AgreementFilter, p listing.Params) (page listing.Page[Agreement], total int64, err error) {
	defer errs.Wrap(&err, "list agreements")
	page.Items = []Agreement{}
	if f.Kind != "" && !validKind(f.Kind) {
		return page, 0, errs.Field("query.kind", "SLA, OLA or UC", f.Kind)
	}
	if f.ServiceID < 0 {
		return page, 0, errs.Field("query.service", "a service id", f.ServiceID)
	}
	if err := s.checkState(AgreementType, f.State); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	if f.Kind != "" {
		lf = append(lf, listing.Filter{Field: "kind", Value: string(f.Kind)})
	}
	if f.State != "" {
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.ServiceID != 0 {
		lf = append(lf, listing.Filter{Where: `r.id IN (SELECT agreement_id FROM agreement_services WHERE service_id = ?)`,
			Args: []any{f.ServiceID}})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, agreementSource, p, lf)
}

// Actions lists the workflow steps allowed from a record's state with the
// guard's decision for the caller; an agreement lists only the negotiation of its kind.
func (s *Service) Actions(ctx context.Context, typeName, number string) (out []record.Action, err error) {
	defer errs.Wrap(&err, "actions of %s", number)
	r, err := s.get(ctx, typeName, number)
	if err != nil {
		return nil, err
	}
	as, err := s.records.Actions(ctx, r.Number)
	if err != nil {
		return nil, err
	}
	if typeName != AgreementType {
		return as, nil
	}
	f, err := loadAgreementFacts(ctx, s.db, r.ID)
	if err != nil {
		return nil, err
	}
	other := negotiation(SLA)
	if f.Kind == SLA {
		other = negotiation(OLA)
	}
	out = []record.Action{}
	for _, a := range as {
		if a.Action == other {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// Perform takes a workflow step of an agreement, review or plan. An
// agreement's "negotiate" performs SLM2 for an SLA and SLM4 for an OLA or UC.
func (s *Service) Perform(ctx context.Context, typeName, number, action string, in StepInput) (out StepResult, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	r, err := s.get(ctx, typeName, number)
	if err != nil {
		return out, err
	}
	if typeName == AgreementType && action == actNegotiate {
		f, err := loadAgreementFacts(ctx, s.db, r.ID)
		if err != nil {
			return out, err
		}
		action = negotiation(f.Kind)
	}
	res, err := s.records.Perform(ctx, r.Number, action, record.PerformInput{Version: in.Version, Comment: in.Comment})
	if err != nil {
		return out, err
	}
	return StepResult{Outcome: res.Outcome, Record: res.Record, Step: res.Step, Consultations: res.Consultations}, nil
}

// targetCache is the per-node copy of the measured targets, valid for one generation.
type targetCache struct {
	generation int64
	targets    []sla.Target
}
