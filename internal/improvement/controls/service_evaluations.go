package controls

import (
	"context"
	"fmt"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

func evalFields(e Evaluation) map[string]any {
	return map[string]any{"period": e.Period, "feedback": nonNil(e.Feedback), "measurements": nonNil(e.Measurements),
		"gapAnalysis": e.GapAnalysis, "initiatives": nonNil(e.Initiatives)}
}

var evalAudited = []string{"period", "feedback", "measurements", "gapAnalysis", "initiatives"}

// stored is e's own fields as they are stored: lists never nil, and no computed Met.
func stored(e Evaluation) Evaluation {
	out := Evaluation{Period: e.Period, GapAnalysis: e.GapAnalysis, Feedback: nonNil(e.Feedback),
		Initiatives: nonNil(e.Initiatives), Measurements: make([]Measurement, len(e.Measurements))}
	for i, m := range e.Measurements {
		m.Met = nil
		out.Measurements[i] = m
	}
	return out
}

// evaluation joins a record with its evaluation row and works out which measurements meet their targets.
func evaluation(r record.Record, row Evaluation) Evaluation {
	e := stored(row)
	e.Record = r
	for i := range e.Measurements {
		e.Measurements[i].Met = met(e.Measurements[i])
	}
	return e
}

func (s *Service) evaluations(ctx context.Context, rs []record.Record) ([]Evaluation, error) {
	rows, err := loadEvals(ctx, s.db, ids(rs))
	if err != nil {
		return nil, err
	}
	out := make([]Evaluation, 0, len(rs))
	for _, r := range rs {
		row, ok := rows[r.ID]
		if !ok {
			return nil, fmt.Errorf("evaluation %s has no evaluation row", r.Number)
		}
		out = append(out, evaluation(r, row))
	}
	return out, nil
}

// CreateEvaluation drafts an evaluation of a process's performance. It
// performs the process's Evaluate activity: the caller needs R or A for it.
func (s *Service) CreateEvaluation(ctx context.Context, code string, in NewEvaluation) (out Evaluation, err error) {
	defer errs.Wrap(&err, "draft an evaluation of %s", code)
	process, err := s.process(code, framework.ControlEvaluate)
	if err != nil {
		return out, err
	}
	row := stored(Evaluation{Period: in.Period, Feedback: in.Feedback, Measurements: in.Measurements,
		GapAnalysis: in.GapAnalysis, Initiatives: in.Initiatives})
	if err := validateEvaluation(row.Period, row.Feedback, row.Measurements, row.GapAnalysis, row.Initiatives); err != nil {
		return out, err
	}
	r, err := s.records.Create(ctx, EvaluationType, record.NewRecord{Title: in.Title, Description: in.Description,
		Marking: in.Marking, Process: process,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			return audit.Diff(evalAudited, map[string]any{}, evalFields(row)), saveEval(ctx, tx, r.ID, row)
		}})
	if err != nil {
		return out, err
	}
	return evaluation(r, row), nil
}

// Evaluations lists a process's evaluations.
func (s *Service) Evaluations(ctx context.Context, code string, f ListFilter, p listing.Params) (page listing.Page[Evaluation], total int64, err error) {
	defer errs.Wrap(&err, "list evaluations of %s", code)
	rp, total, err := s.list(ctx, EvaluationType, code, framework.ControlEvaluate, f, p)
	if err != nil {
		return page, 0, err
	}
	page.NextCursor = rp.NextCursor
	page.Items, err = s.evaluations(ctx, rp.Items)
	return page, total, err
}

// Evaluation returns an evaluation by its number.
func (s *Service) Evaluation(ctx context.Context, number string) (out Evaluation, err error) {
	defer errs.Wrap(&err, "read evaluation %s", number)
	r, err := s.get(ctx, EvaluationType, number)
	if err != nil {
		return out, err
	}
	es, err := s.evaluations(ctx, []record.Record{r})
	if err != nil {
		return out, err
	}
	return es[0], nil
}

// UpdateEvaluation changes a draft evaluation; a list given replaces the list.
// It needs R or A for the process's Evaluate activity.
func (s *Service) UpdateEvaluation(ctx context.Context, number string, version int64, u EvaluationUpdate) (out Evaluation, err error) {
	defer errs.Wrap(&err, "update evaluation %s", number)
	if _, err := s.get(ctx, EvaluationType, number); err != nil {
		return out, err
	}
	_, err = s.records.Amend(ctx, number, record.Amendment{Version: version,
		Fields: record.Update{Title: u.Title, Description: u.Description, Marking: u.Marking},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			old, err := loadEvalRow(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			old = stored(old)
			n := old
			if u.Period != nil {
				n.Period = *u.Period
			}
			if u.Feedback != nil {
				n.Feedback = *u.Feedback
			}
			if u.Measurements != nil {
				n.Measurements = *u.Measurements
			}
			if u.GapAnalysis != nil {
				n.GapAnalysis = *u.GapAnalysis
			}
			if u.Initiatives != nil {
				n.Initiatives = *u.Initiatives
			}
			n = stored(n)
			if err := validateEvaluation(n.Period, n.Feedback, n.Measurements, n.GapAnalysis, n.Initiatives); err != nil {
				return nil, err
			}
			changes := audit.Diff(evalAudited, evalFields(old), evalFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, saveEval(ctx, tx, cur.ID, n)
		}})
	if err != nil {
		return out, err
	}
	return s.Evaluation(ctx, number)
}
