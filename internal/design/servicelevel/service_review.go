package servicelevel

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
	"steward/internal/platform/record"
)

// Report is the service level achievement report (SLM6): the tracker's clocks
// of a service, an agreement, or both, started in [From, To), counted per
// agreement and target (with a monthly trend), per month and per record
// priority, with the achievement (met / decided) of each. It reads the clocks
// with one GROUP BY over the (service, month) or (agreement, month) index.
func (s *Service) Report(ctx context.Context, q ReportQuery) (out AchievementReport, err error) {
	defer errs.Wrap(&err, "report service level achievements")
	if err := validateReportQuery(q); err != nil {
		return out, err
	}
	return report(ctx, s.db, q)
}

func report(ctx context.Context, dbq db.Queryer, q ReportQuery) (AchievementReport, error) {
	groups, err := clockGroups(ctx, dbq, q)
	if err != nil {
		return AchievementReport{}, err
	}
	targets, agreements, err := reportNames(ctx, dbq, groups)
	if err != nil {
		return AchievementReport{}, err
	}
	return buildReport(q, groups, targets, agreements), nil
}

// CreateReview plans a service review (SLM7) of a service over a period, of
// one agreement or of every agreement whose clocks measured the service: it
// keeps the achievement report as it is now and the penalties and credits the
// agreements' terms identify in it.
func (s *Service) CreateReview(ctx context.Context, in NewReview) (out Review, err error) {
	defer errs.Wrap(&err, "plan a service review")
	var f fieldErrs
	if in.ServiceID <= 0 {
		f.add("body.serviceId", "the CMDB service reviewed", in.ServiceID)
	}
	in.Title = strings.TrimSpace(in.Title)
	f.text("body.title", in.Title, maxTitle)
	q := ReportQuery{ServiceID: in.ServiceID, From: in.From.UTC(), To: in.To.UTC()}
	if err := validateReportQuery(q); err != nil {
		e, _ := errs.As(err)
		for _, fe := range e.Fields {
			fe.Location = strings.Replace(fe.Location, "query.", "body.", 1)
			if fe.Location != "body.service" {
				f = append(f, fe)
			}
		}
	}
	if err := f.err(); err != nil {
		return out, err
	}
	if in.Title == "" {
		in.Title = fmt.Sprintf("Service review %s – %s", q.From.Format(time.DateOnly), q.To.Format(time.DateOnly))
	}
	var number string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkService(ctx, tx, "body.serviceId", in.ServiceID); err != nil {
			return err
		}
		if in.Agreement != "" {
			refs, err := agreementRefs(ctx, tx, "body.agreementNumber", []string{in.Agreement})
			if err != nil {
				e, _ := errs.As(err)
				if e != nil && len(e.Fields) == 1 {
					return errs.Field("body.agreementNumber", "no such agreement", in.Agreement)
				}
				return err
			}
			q.AgreementID = refs[0].ID
		}
		rep, err := report(ctx, tx, q)
		if err != nil {
			return err
		}
		ids := make([]int64, len(rep.Agreements))
		for i, a := range rep.Agreements {
			ids[i] = a.ID
		}
		terms, err := loadTerms(ctx, tx, ids...)
		if err != nil {
			return err
		}
		findings := identify(rep, terms)
		r, err := s.records.CreateIn(ctx, tx, ReviewType, record.NewRecord{Title: in.Title, ServiceID: in.ServiceID, Marking: in.Marking,
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				changes := []audit.Change{{Field: "periodFrom", New: q.From}, {Field: "periodTo", New: q.To},
					{Field: "findings", New: len(findings)}}
				if in.Agreement != "" {
					changes = append(changes, audit.Change{Field: "agreement", New: record.NormalizeNumber(in.Agreement)})
				}
				return changes, insertReview(ctx, tx, r.ID, NewReview{ServiceID: in.ServiceID, From: q.From, To: q.To}, q.AgreementID,
					rep, findings)
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
	return s.Review(ctx, number)
}

// Review returns a service review by its number.
func (s *Service) Review(ctx context.Context, number string) (out Review, err error) {
	defer errs.Wrap(&err, "read service review %s", number)
	r, err := s.get(ctx, ReviewType, number)
	if err != nil {
		return out, err
	}
	return loadReview(ctx, s.db, r.ID)
}

// Reviews pages the service reviews matching f, newest first unless p sorts otherwise.
func (s *Service) Reviews(ctx context.Context, f ReviewFilter, p listing.Params) (page listing.Page[Review], total int64, err error) {
	defer errs.Wrap(&err, "list service reviews")
	page.Items = []Review{}
	if err := s.checkState(ReviewType, f.State); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	if f.State != "" {
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.ServiceID != 0 {
		lf = append(lf, listing.Filter{Field: "serviceId", Value: f.ServiceID})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, reviewSource, p, lf)
}

// SetMinutes records the minutes of a review that is not completed (SLM7).
func (s *Service) SetMinutes(ctx context.Context, number string, version int64, minutes string) (out Review, err error) {
	defer errs.Wrap(&err, "record the minutes of %s", number)
	r, err := s.get(ctx, ReviewType, number)
	if err != nil {
		return out, err
	}
	var f fieldErrs
	f.text("body.minutes", minutes, maxText)
	if err := f.err(); err != nil {
		return out, err
	}
	_, err = s.amendAs(ctx, r, version, ActReview, "record the minutes of", record.Update{},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			var old string
			if err := tx.QueryRowContext(ctx, `SELECT minutes FROM service_reviews WHERE record_id = ?`, cur.ID).Scan(&old); err != nil {
				return nil, fmt.Errorf("read the minutes: %w", err)
			}
			if old == minutes {
				return nil, nil
			}
			if _, err := tx.ExecContext(ctx, `UPDATE service_reviews SET minutes = ? WHERE record_id = ?`, minutes, cur.ID); err != nil {
				return nil, fmt.Errorf("store the minutes: %w", err)
			}
			return []audit.Change{{Field: "minutes", Old: old, New: minutes}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Review(ctx, r.Number)
}

// CreatePlan formulates a service improvement plan (SLM8) for a service,
// possibly from a service review of it.
func (s *Service) CreatePlan(ctx context.Context, in NewImprovementPlan) (out ImprovementPlan, err error) {
	defer errs.Wrap(&err, "formulate an improvement plan")
	var f fieldErrs
	if in.ServiceID <= 0 {
		f.add("body.serviceId", "the CMDB service the plan improves", in.ServiceID)
	}
	f.text("body.objective", in.Objective, maxText)
	if err := f.err(); err != nil {
		return out, err
	}
	var number string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkService(ctx, tx, "body.serviceId", in.ServiceID); err != nil {
			return err
		}
		var reviewID int64
		if in.Review != "" {
			var svc int64
			err := tx.QueryRowContext(ctx, `SELECT r.id, v.service_id FROM records r JOIN service_reviews v ON v.record_id = r.id
				WHERE r.number = ?`, record.NormalizeNumber(in.Review)).Scan(&reviewID, &svc)
			if db.IsNoRows(err) {
				return errs.Field("body.review", "no such service review", in.Review)
			}
			if err != nil {
				return fmt.Errorf("read review %s: %w", in.Review, err)
			}
			if svc != in.ServiceID {
				return errs.Field("body.review", "the review is of another service", in.Review)
			}
		}
		r, err := s.records.CreateIn(ctx, tx, PlanType, record.NewRecord{Title: in.Title, ServiceID: in.ServiceID, Marking: in.Marking,
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				changes := []audit.Change{{Field: "objective", New: in.Objective}}
				if in.Review != "" {
					changes = append(changes, audit.Change{Field: "review", New: record.NormalizeNumber(in.Review)})
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO improvement_plans (record_id, service_id, review_id, objective)
					VALUES (?, ?, ?, ?)`, r.ID, in.ServiceID, db.NullID(reviewID), in.Objective); err != nil {
					return nil, fmt.Errorf("insert improvement plan: %w", err)
				}
				return changes, nil
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
	return s.ImprovementPlan(ctx, number)
}

// ImprovementPlan returns an improvement plan by its number with its items.
func (s *Service) ImprovementPlan(ctx context.Context, number string) (out ImprovementPlan, err error) {
	defer errs.Wrap(&err, "read improvement plan %s", number)
	r, err := s.get(ctx, PlanType, number)
	if err != nil {
		return out, err
	}
	if out, err = loadPlan(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	out.Items, err = loadItems(ctx, s.db, r.ID)
	return out, err
}

// Plans pages the improvement plans matching f, newest first unless p sorts otherwise.
func (s *Service) Plans(ctx context.Context, f PlanFilter, p listing.Params) (page listing.Page[ImprovementPlan], total int64, err error) {
	defer errs.Wrap(&err, "list improvement plans")
	page.Items = []ImprovementPlan{}
	if err := s.checkState(PlanType, f.State); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	if f.State != "" {
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.ServiceID != 0 {
		lf = append(lf, listing.Filter{Field: "serviceId", Value: f.ServiceID})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, planSource, p, lf)
}

// AddItem adds an item to a plan that is not closed (SLM8).
func (s *Service) AddItem(ctx context.Context, number string, in NewItem) (out PlanItem, err error) {
	defer errs.Wrap(&err, "add an item to %s", number)
	r, err := s.get(ctx, PlanType, number)
	if err != nil {
		return out, err
	}
	in.Title = strings.TrimSpace(in.Title)
	if err := validateItem(in.Title, in.OwnerID, in.Note); err != nil {
		return out, err
	}
	var id int64
	_, err = s.amendAs(ctx, r, 0, ActImprove, "add an item to", record.Update{},
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			if in.OwnerID != 0 {
				if err := checkUser(ctx, tx, "body.ownerId", in.OwnerID); err != nil {
					return nil, err
				}
			}
			now := s.clock.Now().UnixMilli()
			if err := tx.QueryRowContext(ctx, `INSERT INTO improvement_actions (plan_id, title, owner_id, due_at, note, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, cur.ID, in.Title, db.NullID(in.OwnerID), timeMs(in.DueAt), in.Note, now, now).Scan(&id); err != nil {
				return nil, fmt.Errorf("insert item: %w", err)
			}
			return []audit.Change{{Field: "item", New: map[string]any{"id": id, "title": in.Title, "ownerId": in.OwnerID,
				"dueAt": timeMs(in.DueAt)}}}, nil
		})
	if err != nil {
		return out, err
	}
	return loadItem(ctx, s.db, r.ID, id)
}

// UpdateItem changes an item of a plan that is not closed: its text, owner,
// due date, or its state (done and cancelled close it, open reopens it). An
// SLM8 holder may change any item; its owner may change it too. version is
// the item's (If-Match); a stale one is PreconditionFailed.
func (s *Service) UpdateItem(ctx context.Context, number string, id, version int64, c PlanItemChange) (out PlanItem, err error) {
	defer errs.Wrap(&err, "update item %d of %s", id, number)
	r, err := s.get(ctx, PlanType, number)
	if err != nil {
		return out, err
	}
	old, err := loadItem(ctx, s.db, r.ID, id)
	if err != nil {
		return out, err
	}
	n := old
	if c.Title != nil {
		n.Title = strings.TrimSpace(*c.Title)
	}
	if c.OwnerID != nil {
		n.OwnerID = *c.OwnerID
	}
	if c.Note != nil {
		n.Note = *c.Note
	}
	if c.DueAt != nil {
		n.DueAt = c.DueAt
		if c.DueAt.IsZero() {
			n.DueAt = nil
		}
	}
	if c.State != nil {
		n.State = *c.State
	}
	if err := validateItem(n.Title, n.OwnerID, n.Note); err != nil {
		return out, err
	}
	if n.State != ItemOpen && n.State != ItemDone && n.State != ItemCancelled {
		return out, errs.Field("body.state", "open, done or cancelled", n.State)
	}
	p := auth.PrincipalFrom(ctx)
	owner := p != nil && old.OwnerID != 0 && p.UserID == old.OwnerID
	if !owner {
		if err := s.authorize(ctx, r, ActImprove, "change an item of"); err != nil {
			return out, err
		}
	}
	before := map[string]any{"title": old.Title, "ownerId": old.OwnerID, "dueAt": timeMs(old.DueAt), "state": old.State, "note": old.Note}
	after := map[string]any{"title": n.Title, "ownerId": n.OwnerID, "dueAt": timeMs(n.DueAt), "state": n.State, "note": n.Note}
	changes := audit.Diff([]string{"title", "ownerId", "dueAt", "state", "note"}, before, after)
	if len(changes) == 0 {
		return old, nil
	}
	_, err = s.records.Amend(ctx, r.Number, record.Amendment{Verb: "change an item of",
		Permit: func(*auth.Principal, record.Record) bool { return true },
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			if n.OwnerID != old.OwnerID && n.OwnerID != 0 {
				if err := checkUser(ctx, tx, "body.ownerId", n.OwnerID); err != nil {
					return nil, err
				}
			}
			now := s.clock.Now().UnixMilli()
			closed := timeMs(old.ClosedAt)
			switch {
			case n.State == ItemOpen:
				closed = 0
			case old.State == ItemOpen:
				closed = now
			}
			res, err := tx.ExecContext(ctx, `UPDATE improvement_actions SET title = ?, owner_id = ?, due_at = ?, state = ?, closed_at = ?,
				note = ?, updated_at = ?, version = version + 1 WHERE id = ? AND plan_id = ? AND version = ?`,
				n.Title, db.NullID(n.OwnerID), timeMs(n.DueAt), n.State, closed, n.Note, now, id, cur.ID, version)
			if err != nil {
				return nil, fmt.Errorf("update item %d: %w", id, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil, errs.E(errs.PreconditionFailed, "item %d of %s changed since version %d; read it again", id, cur.Number, version)
			}
			out := []audit.Change{{Field: "item", New: id}}
			for _, ch := range changes {
				ch.Field = "item." + ch.Field
				out = append(out, ch)
			}
			return out, nil
		}})
	if err != nil {
		return out, err
	}
	return loadItem(ctx, s.db, r.ID, id)
}
