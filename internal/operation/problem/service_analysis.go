package problem

import (
	"context"
	"fmt"
	"slices"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// RecordRCA records a root-cause analysis of a problem (PM4: the caller needs
// R or A for it): its method, findings, evidence (texts, or attachments of the
// problem) and root cause statement. The problem's version rises; a closed or
// cancelled problem takes none.
func (s *Service) RecordRCA(ctx context.Context, number string, in NewRCA) (out RCA, err error) {
	defer errs.Wrap(&err, "record a root-cause analysis of %s", number)
	if err := validateRCA(&in); err != nil {
		return out, err
	}
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	if slices.ContainsFunc(in.Evidence, func(e RCAEvidence) bool { return e.AttachmentID != 0 }) {
		atts, err := s.records.Attachments(ctx, r.Number)
		if err != nil {
			return out, err
		}
		names := map[int64]string{}
		for _, a := range atts {
			names[a.ID] = a.Name
		}
		var f fieldErrs
		for i, e := range in.Evidence {
			if e.AttachmentID == 0 {
				continue
			}
			name, ok := names[e.AttachmentID]
			if !ok {
				f.add(fmt.Sprintf("body.evidence[%d].attachmentId", i), "not an attachment of "+r.Number, e.AttachmentID)
			}
			in.Evidence[i].AttachmentName = name
		}
		if err := f.err(); err != nil {
			return out, err
		}
	}
	if in.Evidence == nil {
		in.Evidence = []RCAEvidence{}
	}
	p := auth.PrincipalFrom(ctx)
	_, err = s.amendAs(ctx, r, 0, ActInvestigate, "record a root-cause analysis of",
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			now := s.clock.Now().UnixMilli()
			id, err := insertRCA(ctx, tx, cur.ID, in, p.UserID, now)
			if err != nil {
				return nil, err
			}
			out = RCA{ID: id, Method: in.Method, Findings: in.Findings, Evidence: in.Evidence, RootCause: in.RootCause,
				CreatedBy: p.UserID, CreatedByName: p.Username, CreatedAt: db.Time(now)}
			if err := s.events.Emit(ctx, tx, outbox.Event{Type: "problem.rca_recorded", Subject: "record/" + cur.Number,
				Data: map[string]any{"number": cur.Number, "rca": out}}); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "rca", New: id}, {Field: "method", New: string(in.Method)},
				{Field: "rootCause", New: in.RootCause}}, nil
		})
	return out, err
}

// RCAs lists a problem's root-cause analyses, oldest first.
func (s *Service) RCAs(ctx context.Context, number string) (out []RCA, err error) {
	defer errs.Wrap(&err, "read the root-cause analyses of %s", number)
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return nil, err
	}
	return loadRCAs(ctx, s.db, r.ID)
}

// SetWorkaround records a problem's workaround (PM4: the caller needs R or A
// for it). Its known errors that have no workaround of their own take it, and
// are matched by it from now on. An empty text clears it.
func (s *Service) SetWorkaround(ctx context.Context, number string, version int64, text string) (out ProblemDetail, err error) {
	defer errs.Wrap(&err, "record the workaround of %s", number)
	var f fieldErrs
	f.text("body.workaround", text, maxText)
	if err := f.err(); err != nil {
		return out, err
	}
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	if err := checkVersion(r, version); err != nil {
		return out, err
	}
	_, err = s.amendAs(ctx, r, version, ActInvestigate, "record the workaround of",
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			st, err := loadProblemState(ctx, tx, cur.ID)
			if err != nil || st.Workaround == text {
				return nil, err
			}
			if err := setWorkaround(ctx, tx, cur.ID, text); err != nil {
				return nil, err
			}
			kes, err := inheritingKnownErrors(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			numbers := make([]string, len(kes))
			for i, k := range kes {
				if err := s.index(ctx, tx, k.ID, k.Title, k.Symptoms, text); err != nil {
					return nil, err
				}
				numbers[i] = k.Number
			}
			if err := s.events.Emit(ctx, tx, outbox.Event{Type: "problem.workaround_recorded", Subject: "record/" + cur.Number,
				Data: map[string]any{"number": cur.Number, "workaround": text, "knownErrors": numbers}}); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "workaround", Old: st.Workaround, New: text}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Problem(ctx, r.Number)
}

// checkVersion refuses a stale If-Match version; 0 skips the check.
func checkVersion(r record.Record, version int64) error {
	if version != 0 && version != r.Version {
		return errs.E(errs.PreconditionFailed, "%s changed since version %d (now %d); read it again", r.Number, version, r.Version)
	}
	return nil
}

// Review records the review of a resolved problem (PM6: the caller needs R or
// A for it): a summary, the lessons learned and the follow-ups. A major
// problem closes only with one. Reviewing again replaces it.
func (s *Service) Review(ctx context.Context, number string, in NewReview) (out ProblemDetail, err error) {
	defer errs.Wrap(&err, "review %s", number)
	if err := validateReview(&in); err != nil {
		return out, err
	}
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	if r.State != Resolved {
		return out, errs.E(errs.Conflict, "%s is %s: a problem is reviewed once it is resolved, before it closes", r.Number, r.State)
	}
	p := auth.PrincipalFrom(ctx)
	_, err = s.amendAs(ctx, r, 0, ActClose, "review",
		func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			if cur.State != Resolved {
				return nil, errs.E(errs.Conflict, "%s is %s: a problem is reviewed once it is resolved, before it closes", cur.Number, cur.State)
			}
			if err := saveReview(ctx, tx, cur.ID, in, p.UserID, s.clock.Now().UnixMilli()); err != nil {
				return nil, err
			}
			if err := s.events.Emit(ctx, tx, outbox.Event{Type: "problem.reviewed", Subject: "record/" + cur.Number,
				Data: map[string]any{"number": cur.Number, "summary": in.Summary, "lessons": in.Lessons, "followUps": in.FollowUps}}); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "review.summary", New: in.Summary}, {Field: "review.lessons", New: in.Lessons},
				{Field: "review.followUps", New: in.FollowUps}}, nil
		})
	if err != nil {
		return out, err
	}
	return s.Problem(ctx, r.Number)
}

// Actions lists the workflow steps allowed from a problem's state, with the
// activity each performs and the guard's decision for the caller.
func (s *Service) Actions(ctx context.Context, number string) ([]record.Action, error) {
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return nil, err
	}
	return s.records.Actions(ctx, r.Number)
}

// Perform takes a workflow step of a problem through the kernel, whose RACI
// guard decides. raise_rfc (PM5) needs the RFC reference, which is stored
// with the step (until change management exists, a reference or a URL);
// resolve may carry what fixed the problem. A step not allowed from the
// problem's state is a Conflict naming the allowed ones.
func (s *Service) Perform(ctx context.Context, number, action string, in StepInput) (out ProblemStepResult, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	t, err := s.records.Type(ProblemType)
	if err != nil {
		return out, err
	}
	if _, err := t.Next(r.State, action); err != nil {
		return out, err
	}
	if err := validateStep(action, &in); err != nil {
		return out, err
	}
	ctx = context.WithValue(ctx, stepKey{}, givenStep{number: r.Number, in: in})
	return s.perform(ctx, r.Number, action, in.Version, in.Comment)
}

// perform applies a step through the kernel and says what it did.
func (s *Service) perform(ctx context.Context, number, action string, version int64, comment string) (out ProblemStepResult, err error) {
	res, err := s.records.Perform(ctx, number, action, record.PerformInput{Version: version, Comment: comment})
	if err != nil {
		return out, err
	}
	return ProblemStepResult{Outcome: res.Outcome, Record: res.Record, Step: res.Step, Consultations: res.Consultations}, nil
}
