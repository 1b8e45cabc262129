package servicelevel

import (
	"context"
	"fmt"
	"slices"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// Targets returns every time-based target of the agreed agreements, resolved
// for the clock engine: the selector holds the agreement's services, the
// target's priority, record types, categories and customer teams; a target
// without a rule gets its kind's default rule (for the kind's default record
// type when it names none). The result is cached per node and re-read only
// when a write has bumped the agreements' generation: one query when nothing
// changed. Callers must not modify what it returns.
func (s *Service) Targets(ctx context.Context) (out []sla.Target, err error) {
	defer errs.Wrap(&err, "read the measured targets")
	g, err := readGeneration(ctx, s.db)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	c := s.cache
	s.mu.Unlock()
	if c.generation == g && c.targets != nil {
		return c.targets, nil
	}
	out, err = loadMeasured(ctx, s.db)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if g > s.cache.generation {
		s.cache = targetCache{generation: g, targets: out}
	}
	s.mu.Unlock()
	return out, nil
}

// loadMeasured reads the time-based targets of the agreed agreements with their services.
func loadMeasured(ctx context.Context, q db.Queryer) ([]sla.Target, error) {
	services := map[int64][]int64{}
	rows, err := q.QueryContext(ctx, `SELECT s.agreement_id, s.service_id FROM agreement_services s
		JOIN records r ON r.id = s.agreement_id WHERE r.type = ? AND r.state = ? ORDER BY s.agreement_id, s.service_id`,
		AgreementType, Agreed)
	if err != nil {
		return nil, fmt.Errorf("read the services of agreed agreements: %w", err)
	}
	for rows.Next() {
		var a, sv int64
		if err := rows.Scan(&a, &sv); err != nil {
			rows.Close()
			return nil, err
		}
		services[a] = append(services[a], sv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT `+targetCols+`, t.agreement_id, r.title, a.kind, a.calendar_id, a.starts_on, a.ends_on
		FROM agreement_targets t JOIN records r ON r.id = t.agreement_id JOIN agreements a ON a.record_id = t.agreement_id
		WHERE r.type = ? AND r.state = ? AND t.kind <> ? ORDER BY t.agreement_id, t.position, t.id`,
		AgreementType, Agreed, string(Availability))
	if err != nil {
		return nil, fmt.Errorf("read the targets of agreed agreements: %w", err)
	}
	defer rows.Close()
	out := []sla.Target{}
	for rows.Next() {
		var st sla.Target
		var startsOn, endsOn int64
		t, _, err := scanTarget(rows, &st.AgreementID, &st.AgreementName, &st.AgreementKind, &st.CalendarID, &startsOn, &endsOn)
		if err != nil {
			return nil, err
		}
		m := measured(t, st, services[st.AgreementID])
		// The agreement measures the records logged while it is in force: from
		// the start of startsOn to the end of endsOn (UTC days).
		m.Selector.LoggedFrom = startsOn
		if endsOn != 0 {
			m.Selector.LoggedBefore = endsOn + 24*time.Hour.Milliseconds()
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// measured resolves a stored target into the engine's: st carries the agreement's part.
func measured(t Target, st sla.Target, services []int64) sla.Target {
	st.ID, st.Name, st.Kind = t.ID, t.Name, sla.Kind(t.Kind)
	st.Duration = time.Duration(t.DurationMs) * time.Millisecond
	st.Selector = sla.Selector{RecordTypes: slices.Clone(t.RecordTypes), ServiceIDs: slices.Clone(services),
		Categories: slices.Clone(t.Categories), CustomerTeams: slices.Clone(t.CustomerTeams)}
	if t.Priority > 0 {
		st.Selector.Priorities = []int{t.Priority}
	}
	if t.Rule != nil {
		st.Rule = *t.Rule
	} else {
		rt := defaultRecordType(t.Kind)
		if len(t.RecordTypes) == 1 {
			rt = t.RecordTypes[0]
		}
		if len(st.Selector.RecordTypes) == 0 && rt != "" {
			st.Selector.RecordTypes = []string{rt}
		}
		st.Rule = sla.DefaultRule(st.Kind, rt)
	}
	st.Warnings = slices.Clone(t.Warnings)
	if len(st.Warnings) == 0 {
		st.Warnings = slices.Clone(DefaultWarnings)
	}
	st.Escalations = slices.Clone(t.Escalations)
	return st
}

// AvailabilityTarget returns the availability target of the agreed SLA that
// covers a service, with the SLA's calendar (the service hours); false when no
// agreed SLA of the service has one. With several, the highest percentage wins.
func (s *Service) AvailabilityTarget(ctx context.Context, serviceID int64) (out AvailabilityTarget, ok bool, err error) {
	defer errs.Wrap(&err, "read the availability target of service %d", serviceID)
	err = s.db.QueryRowContext(ctx, `SELECT t.percent, r.id, r.number, a.calendar_id FROM agreement_targets t
		JOIN agreements a ON a.record_id = t.agreement_id JOIN records r ON r.id = t.agreement_id
		JOIN agreement_services sv ON sv.agreement_id = t.agreement_id
		WHERE sv.service_id = ? AND t.kind = ? AND a.kind = ? AND r.state = ?
		ORDER BY t.percent DESC, r.id LIMIT 1`, serviceID, string(Availability), string(SLA), Agreed).
		Scan(&out.Percent, &out.AgreementID, &out.AgreementNumber, &out.CalendarID)
	if db.IsNoRows(err) {
		return out, false, nil
	}
	if err != nil {
		return out, false, err
	}
	return out, true, nil
}

// CoveredService is a CMDB service with the agreed SLAs that cover it.
type CoveredService struct {
	ServiceRef
	Agreements []AgreementRef `json:"agreements"`
}

// Coverage lists the services the agreed SLAs cover, by name, each with its
// SLAs by number, in one query: the service-level overview's rows.
func (s *Service) Coverage(ctx context.Context) (out []CoveredService, err error) {
	defer errs.Wrap(&err, "read the services the agreed SLAs cover")
	rows, err := s.db.QueryContext(ctx, `SELECT sv.service_id, COALESCE(c.name, ''), r.id, r.number, r.title, r.state
		FROM agreement_services sv JOIN records r ON r.id = sv.agreement_id JOIN agreements a ON a.record_id = r.id
		LEFT JOIN cis c ON c.id = sv.service_id
		WHERE r.type = ? AND r.state = ? AND a.kind = ? ORDER BY LOWER(COALESCE(c.name, '')), sv.service_id, r.number`,
		AgreementType, Agreed, string(SLA))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sv ServiceRef
		a := AgreementRef{Kind: SLA}
		if err := rows.Scan(&sv.ID, &sv.Name, &a.ID, &a.Number, &a.Title, &a.State); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != sv.ID {
			out = append(out, CoveredService{ServiceRef: sv})
		}
		out[len(out)-1].Agreements = append(out[len(out)-1].Agreements, a)
	}
	return out, rows.Err()
}
