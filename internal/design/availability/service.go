package availability

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/jobs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// SyncWindow is how far back SyncMajorIncidents mirrors major incidents.
const SyncWindow = 400 * 24 * time.Hour

// SyncInterval is how often the "availability.sync" job runs.
const SyncInterval = time.Minute

// Deps are what availability management needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel availability plans are records of; its RACI guard decides every step.
	Records *record.Service
	// Trail audits outages, risks and actions.
	Trail *audit.Trail
	// Events announces them, in the same transaction.
	Events *outbox.Outbox
	Clock  clock.Clock
	// Targets gives a service's availability target; nil measures every service 24×7 without a target.
	Targets Targets
	// Calendars compiles the calendar of a target; required with Targets.
	Calendars Calendars
	// Majors lists major incidents for SyncMajorIncidents; nil syncs nothing.
	Majors MajorIncidents
}

// Service holds the use cases of availability management. Each mutation is
// one transaction, with its audit entries and outbox events.
type Service struct {
	db        *db.DB
	records   *record.Service
	trail     *audit.Trail
	events    *outbox.Outbox
	clock     clock.Clock
	targets   Targets
	calendars Calendars
	majors    MajorIncidents
}

// New returns availability management over d and registers the availability plan's record type with the kernel.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil {
		return nil, fmt.Errorf("availability: DB, Records, Trail and Events are required")
	}
	if d.Targets != nil && d.Calendars == nil {
		return nil, fmt.Errorf("availability: Targets need Calendars for their service hours")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock, targets: d.Targets,
		calendars: d.Calendars, majors: d.Majors}
	if err := d.Records.Register(s.planType()); err != nil {
		return nil, fmt.Errorf("register %s: %w", PlanType, err)
	}
	return s, nil
}

// SetMajorIncidents wires the major incidents SyncMajorIncidents mirrors. Call it before serving.
func (s *Service) SetMajorIncidents(m MajorIncidents) { s.majors = m }

// Register schedules SyncMajorIncidents as the "availability.sync" job, once per slot across nodes.
func (s *Service) Register(r *jobs.Runner) {
	r.Every("availability.sync", SyncInterval, func(ctx context.Context) error {
		_, err := s.SyncMajorIncidents(ctx)
		return err
	})
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

func userID(ctx context.Context) int64 {
	if p := auth.PrincipalFrom(ctx); p != nil {
		return p.UserID
	}
	return 0
}

// mayRecord asks the AvM RACI whether the caller may record outages of a
// service (AvM3, collect and analyse monitoring data). Never call it inside a transaction.
func (s *Service) mayRecord(ctx context.Context, verb, object string, serviceID int64) error {
	_, err := s.records.Authorize(ctx, Process, ActRecord, verb, object, raci.Scope{ServiceID: serviceID})
	return err
}

// outageFields is the audited view of an outage.
func outageFields(o OutageInput) map[string]any {
	return map[string]any{"serviceId": o.ServiceID, "ciId": o.CIID, "kind": string(o.Kind), "startedAt": o.StartedAt.UnixMilli(),
		"endedAt": msOf(o.EndedAt), "description": o.Description}
}

var outageAudited = []string{"serviceId", "ciId", "kind", "startedAt", "endedAt", "description"}

func inputOf(o Outage) OutageInput {
	return OutageInput{ServiceID: o.ServiceID, CIID: o.CIID, Kind: o.Kind, StartedAt: o.StartedAt, EndedAt: o.EndedAt,
		Description: o.Description}
}

func outageEvent(o OutageInput, id int64, source Source, ref string) map[string]any {
	return map[string]any{"id": id, "serviceId": o.ServiceID, "ciId": o.CIID, "kind": string(o.Kind), "source": string(source),
		"sourceRef": ref, "startedAt": o.StartedAt.UnixMilli(), "endedAt": msOf(o.EndedAt)}
}

// checkOutageRefs checks the service and CI an outage names, naming the fields.
func checkOutageRefs(ctx context.Context, q db.Queryer, in OutageInput) error {
	var f fieldErrs
	for _, c := range []func() error{
		func() error { return checkService(ctx, q, "body.serviceId", in.ServiceID) },
		func() error {
			if in.CIID == 0 {
				return nil
			}
			return checkCI(ctx, q, "body.ciId", in.CIID)
		},
	} {
		err := c()
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			f = append(f, e.Fields...)
			continue
		}
		if err != nil {
			return err
		}
	}
	return f.err()
}

// RecordOutage records an outage of a service by hand (AvM3: the caller needs
// R or A for it, in the service's scope). An unknown or disposed service, an
// unknown CI, an end not after the start or an unplanned outage in the future
// is Invalid, naming the field.
func (s *Service) RecordOutage(ctx context.Context, in OutageInput) (out Outage, err error) {
	defer errs.Wrap(&err, "record an outage")
	if err := validateOutage(&in, s.now()); err != nil {
		return out, err
	}
	if err := checkOutageRefs(ctx, s.db, in); err != nil {
		return out, err
	}
	if err := s.mayRecord(ctx, "record an outage of", "service/"+strconv.FormatInt(in.ServiceID, 10), in.ServiceID); err != nil {
		return out, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkOutageRefs(ctx, tx, in); err != nil {
			return err
		}
		var err error
		if id, err = insertOutage(ctx, tx, in, SourceManual, "", userID(ctx), s.now().UnixMilli()); err != nil {
			return err
		}
		changes := audit.Diff(outageAudited, map[string]any{}, outageFields(in))
		s.trail.Record(ctx, tx, audit.Entry{Action: "outage.create", ObjectType: "outage", ObjectID: strconv.FormatInt(id, 10),
			Changes: append(changes, audit.Change{Field: "source", New: string(SourceManual)})})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "outage.recorded", Subject: "outage/" + strconv.FormatInt(id, 10),
			Data: outageEvent(in, id, SourceManual, "")})
	})
	if err != nil {
		return out, err
	}
	return loadOutage(ctx, s.db, id)
}

// Outage returns an outage by id.
func (s *Service) Outage(ctx context.Context, id int64) (out Outage, err error) {
	defer errs.Wrap(&err, "read outage %d", id)
	return loadOutage(ctx, s.db, id)
}

// handEdited refuses to change an outage another source keeps in step.
func handEdited(o Outage) error {
	if o.Source == SourceManual {
		return nil
	}
	return errs.E(errs.Conflict, "outage %d mirrors %s %s and follows it; change the %s instead", o.ID, o.Source, o.SourceRef, o.Source)
}

// UpdateOutage changes an outage recorded by hand (AvM3), at version (the
// If-Match ETag): a stale version is PreconditionFailed. An outage mirrored
// from a major incident follows the incident and is not changed by hand (Conflict).
func (s *Service) UpdateOutage(ctx context.Context, id, version int64, in OutageInput) (out Outage, err error) {
	defer errs.Wrap(&err, "update outage %d", id)
	old, err := loadOutage(ctx, s.db, id)
	if err != nil {
		return out, err
	}
	if err := handEdited(old); err != nil {
		return out, err
	}
	if err := validateOutage(&in, s.now()); err != nil {
		return out, err
	}
	if err := checkOutageRefs(ctx, s.db, in); err != nil {
		return out, err
	}
	if err := s.mayRecord(ctx, "change an outage of", "outage/"+strconv.FormatInt(id, 10), old.ServiceID); err != nil {
		return out, err
	}
	if in.ServiceID != old.ServiceID {
		if err := s.mayRecord(ctx, "move an outage to", "service/"+strconv.FormatInt(in.ServiceID, 10), in.ServiceID); err != nil {
			return out, err
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadOutage(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return errs.E(errs.PreconditionFailed, "outage %d changed since you read it (version %d, now %d)", id, version, cur.Version)
		}
		changes := audit.Diff(outageAudited, outageFields(inputOf(cur)), outageFields(in))
		if len(changes) == 0 {
			return nil
		}
		ok, err := updateOutage(ctx, tx, id, version, in, s.now().UnixMilli())
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.PreconditionFailed, "outage %d changed since you read it", id)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "outage.update", ObjectType: "outage", ObjectID: strconv.FormatInt(id, 10), Changes: changes})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "outage.updated", Subject: "outage/" + strconv.FormatInt(id, 10),
			Data: outageEvent(in, id, cur.Source, cur.SourceRef)})
	})
	if err != nil {
		return out, err
	}
	return loadOutage(ctx, s.db, id)
}

// DeleteOutage deletes an outage recorded by hand (AvM3), at version.
func (s *Service) DeleteOutage(ctx context.Context, id, version int64) (err error) {
	defer errs.Wrap(&err, "delete outage %d", id)
	old, err := loadOutage(ctx, s.db, id)
	if err != nil {
		return err
	}
	if err := handEdited(old); err != nil {
		return err
	}
	if err := s.mayRecord(ctx, "delete an outage of", "outage/"+strconv.FormatInt(id, 10), old.ServiceID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		ok, err := deleteOutage(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.PreconditionFailed, "outage %d changed since you read it, or is gone", id)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "outage.delete", ObjectType: "outage", ObjectID: strconv.FormatInt(id, 10),
			Changes: audit.Diff(outageAudited, outageFields(inputOf(old)), map[string]any{})})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "outage.deleted", Subject: "outage/" + strconv.FormatInt(id, 10),
			Data: outageEvent(inputOf(old), id, old.Source, old.SourceRef)})
	})
}

// Outages pages the outages matching f, latest start first unless p sorts
// otherwise, and counts them all.
func (s *Service) Outages(ctx context.Context, f OutageFilter, p listing.Params) (page listing.Page[Outage], total int64, err error) {
	defer errs.Wrap(&err, "list outages")
	page.Items = []Outage{}
	var fe fieldErrs
	if f.ServiceID < 0 {
		fe.add("query.service", "a service id", f.ServiceID)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fe.add("query.to", "must be after from", f.To)
	}
	if err := fe.err(); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	if f.ServiceID != 0 {
		lf = append(lf, listing.Filter{Field: "serviceId", Value: f.ServiceID})
	}
	if f.Kind != "" {
		lf = append(lf, listing.Filter{Field: "kind", Value: string(f.Kind)})
	}
	if f.Source != "" {
		lf = append(lf, listing.Filter{Field: "source", Value: string(f.Source)})
	}
	if !f.To.IsZero() {
		lf = append(lf, listing.Filter{Where: `o.started_at < ?`, Args: []any{f.To.UnixMilli()}})
	}
	if !f.From.IsZero() {
		lf = append(lf, listing.Filter{Where: `(o.ended_at = 0 OR o.ended_at > ?)`, Args: []any{f.From.UnixMilli()}})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, outageSource, p, lf)
}

// serviceHours returns the schedule a service's availability is measured
// on: the calendar of its availability target, or 24×7 (calendar 0) without one.
func (s *Service) serviceHours(ctx context.Context, serviceID int64) (Schedule, int64, *AgreedAvailability, error) {
	if s.targets == nil {
		return AllHours{}, 0, nil, nil
	}
	t, ok, err := s.targets.AvailabilityTarget(ctx, serviceID)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read the availability target of service %d: %w", serviceID, err)
	}
	if !ok {
		return AllHours{}, 0, nil, nil
	}
	if t.CalendarID == 0 {
		return AllHours{}, 0, &t, nil
	}
	sched, err := s.calendars.Schedule(ctx, t.CalendarID)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read calendar %d: %w", t.CalendarID, err)
	}
	return sched, t.CalendarID, &t, nil
}

// Availability measures a service over [from, to) (AvM2), up to now when to
// is later: the figures on the service hours of its agreed availability
// target's calendar (24×7 without one), the target and whether it is met,
// the series per month and the outages counted. An unknown service, a
// missing period, to not after from or a period over MaxPeriod is Invalid,
// naming the field.
func (s *Service) Availability(ctx context.Context, serviceID int64, from, to time.Time) (out AvailabilityReport, err error) {
	defer errs.Wrap(&err, "measure the availability of service %d", serviceID)
	if err := validatePeriod(from, to); err != nil {
		return out, err
	}
	if serviceID <= 0 {
		return out, errs.Field("path.id", "a service id", serviceID)
	}
	name, err := serviceName(ctx, s.db, serviceID)
	if err != nil {
		return out, err
	}
	if name == "" {
		return out, errs.Field("path.id", "no such service in the CMDB", serviceID)
	}
	from, to = from.UTC(), to.UTC()
	if now := s.now(); to.After(now) {
		to = now
	}
	if to.Before(from) {
		to = from
	}
	sched, calID, target, err := s.serviceHours(ctx, serviceID)
	if err != nil {
		return out, err
	}
	outages, err := serviceOutages(ctx, s.db, serviceID, from, to)
	if err != nil {
		return out, err
	}
	out = AvailabilityReport{ServiceID: serviceID, ServiceName: name, From: from, To: to, CalendarID: calID, Target: target,
		AvailabilityFigures: Compute(outages, sched, from, to), Monthly: Monthly(outages, sched, from, to), Outages: outages}
	if target != nil {
		met := out.Percent >= target.Percent
		out.Met = &met
	}
	return out, nil
}

// SyncMajorIncidents mirrors the major incidents of the last SyncWindow as
// unplanned outages of their services (source "incident", sourceRef the
// incident's number), from when each was logged to when it was resolved
// (ongoing while it is not): it adds the missing, follows the changed (a
// reopened incident is an ongoing outage again) and removes those whose
// incident no longer counts (cancelled, or no longer with a service). It is
// idempotent; each change is audited and announced, as the system. It
// returns how many outages it added, changed or removed.
func (s *Service) SyncMajorIncidents(ctx context.Context) (n int, err error) {
	defer errs.Wrap(&err, "sync outages from major incidents")
	if s.majors == nil {
		return 0, nil
	}
	now := s.now()
	from, to := now.Add(-SyncWindow).UnixMilli(), now.UnixMilli()
	spans, err := s.majors.MajorSpans(ctx, from, to)
	if err != nil {
		return 0, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		seen := map[string]bool{}
		for _, sp := range spans {
			if sp.Number == "" || sp.ServiceID == 0 || seen[sp.Number] {
				continue
			}
			seen[sp.Number] = true
			changed, err := s.mirror(ctx, tx, sp, now.UnixMilli())
			if err != nil {
				return err
			}
			if changed {
				n++
			}
		}
		stale, err := sourcedOutages(ctx, tx, SourceIncident, from, to)
		if err != nil {
			return err
		}
		for _, o := range stale {
			if seen[o.SourceRef] {
				continue
			}
			if _, err := deleteOutage(ctx, tx, o.ID, o.Version); err != nil {
				return err
			}
			s.trail.Record(ctx, tx, audit.Entry{Action: "outage.delete", ObjectType: "outage", ObjectID: strconv.FormatInt(o.ID, 10),
				Changes: append(audit.Diff(outageAudited, outageFields(inputOf(o)), map[string]any{}),
					audit.Change{Field: "reason", New: o.SourceRef + " is no longer a major incident of a service"})})
			if err := s.events.Emit(ctx, tx, outbox.Event{Type: "outage.deleted", Subject: "outage/" + strconv.FormatInt(o.ID, 10),
				Data: outageEvent(inputOf(o), o.ID, o.Source, o.SourceRef)}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// mirror writes the outage of one major incident's span in tx; false when it was already in step.
func (s *Service) mirror(ctx context.Context, tx *db.Tx, sp MajorSpan, now int64) (bool, error) {
	in := OutageInput{ServiceID: sp.ServiceID, CIID: sp.CIID, Kind: Unplanned, StartedAt: db.Time(sp.Start),
		EndedAt: db.TimePtr(sp.End), Description: "Major incident " + sp.Number}
	if sp.End != 0 && sp.End <= sp.Start {
		end := db.Time(sp.Start + 1) // resolved the instant it was logged: the shortest outage there is
		in.EndedAt = &end
	}
	cur, ok, err := outageBySource(ctx, tx, sp.Number)
	if err != nil {
		return false, err
	}
	if !ok {
		id, err := insertOutage(ctx, tx, in, SourceIncident, sp.Number, 0, now)
		if err != nil {
			return false, err
		}
		changes := audit.Diff(outageAudited, map[string]any{}, outageFields(in))
		s.trail.Record(ctx, tx, audit.Entry{Action: "outage.create", ObjectType: "outage", ObjectID: strconv.FormatInt(id, 10),
			Changes: append(changes, audit.Change{Field: "source", New: string(SourceIncident)},
				audit.Change{Field: "sourceRef", New: sp.Number})})
		return true, s.events.Emit(ctx, tx, outbox.Event{Type: "outage.recorded", Subject: "outage/" + strconv.FormatInt(id, 10),
			Data: outageEvent(in, id, SourceIncident, sp.Number)})
	}
	in.Description = cur.Description
	changes := audit.Diff(outageAudited, outageFields(inputOf(cur)), outageFields(in))
	if len(changes) == 0 {
		return false, nil
	}
	if _, err := updateOutage(ctx, tx, cur.ID, cur.Version, in, now); err != nil {
		return false, err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "outage.update", ObjectType: "outage", ObjectID: strconv.FormatInt(cur.ID, 10), Changes: changes})
	return true, s.events.Emit(ctx, tx, outbox.Event{Type: "outage.updated", Subject: "outage/" + strconv.FormatInt(cur.ID, 10),
		Data: outageEvent(in, cur.ID, cur.Source, cur.SourceRef)})
}
