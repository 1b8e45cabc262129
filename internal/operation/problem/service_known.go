package problem

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// keFields is the audited view of a known error's own fields.
func keFields(k keRow) map[string]any {
	return map[string]any{"rootCause": k.RootCause, "workaround": k.Workaround, "category": k.Category,
		"subcategory": k.Subcategory, "ciId": k.CIID}
}

var keAudited = []string{"rootCause", "workaround", "category", "subcategory", "ciId"}

// trimKnownError trims the short fields of a new known error.
func trimKnownError(in *NewKnownError) {
	in.Problem = record.NormalizeNumber(in.Problem)
	in.Title = strings.TrimSpace(in.Title)
	in.RootCause = strings.TrimSpace(in.RootCause)
	in.Category = strings.TrimSpace(in.Category)
	in.Subcategory = strings.TrimSpace(in.Subcategory)
}

// CreateKnownError records a known error in the KEDB as a draft (PM4: the
// caller needs R or A for it), usually from a problem: the fields left empty
// are taken from it (its title, the root cause of its latest analysis, its
// category, subcategory, service and CI), an empty workaround inherits the
// problem's, and the known error is linked to it. It is offered to agents
// once published.
func (s *Service) CreateKnownError(ctx context.Context, in NewKnownError) (out KnownError, err error) {
	defer errs.Wrap(&err, "record a known error")
	trimKnownError(&in)
	var prob *Problem
	if in.Problem != "" {
		r, err := s.get(ctx, ProblemType, in.Problem)
		if errs.Is(err, errs.NotFound) {
			return out, errs.Field("body.problem", "no such problem", in.Problem)
		}
		if err != nil {
			return out, err
		}
		if r.Closed {
			return out, errs.E(errs.Conflict, "%s is %s; its known errors are recorded while it is open", r.Number, r.State)
		}
		p, err := loadProblem(ctx, s.db, r.ID)
		if err != nil {
			return out, err
		}
		prob = &p
		if in.Title == "" {
			in.Title = p.Title
		}
		if in.RootCause == "" {
			in.RootCause = p.RootCause
		}
		if in.Category == "" && in.Subcategory == "" {
			in.Category, in.Subcategory = p.Category, p.Subcategory
		}
		if in.ServiceID == 0 {
			in.ServiceID = p.ServiceID
		}
		if in.CIID == 0 {
			in.CIID = p.CIID
		}
	}
	if err := knownErrorFields(in.Symptoms, in.RootCause, in.Workaround, in.Category, in.Subcategory, in.ServiceID, in.CIID); err != nil {
		return out, err
	}
	if err := s.checkCategory(ctx, "body.", in.Category, in.Subcategory); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActInvestigate, "record", KnownErrorType, raci.Scope{ServiceID: in.ServiceID}); err != nil {
		return out, err
	}
	row := keRow{State: Draft, RootCause: in.RootCause, Workaround: in.Workaround, Category: in.Category,
		Subcategory: in.Subcategory, ServiceID: in.ServiceID, CIID: in.CIID}
	var prevService, prevCI int64
	workaround := in.Workaround
	if prob != nil {
		row.ProblemID, prevService, prevCI = prob.ID, prob.ServiceID, prob.CIID
		if workaround == "" {
			workaround = prob.Workaround
		}
	}
	var number string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkRefs(ctx, tx, in.ServiceID, prevService, in.CIID, prevCI); err != nil {
			return err
		}
		r, err := s.records.CreateIn(ctx, tx, KnownErrorType, record.NewRecord{Title: in.Title, Description: in.Symptoms,
			ServiceID: in.ServiceID, Marking: in.Marking,
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				if err := insertKnownError(ctx, tx, r.ID, row); err != nil {
					return nil, err
				}
				if err := s.index(ctx, tx, r.ID, r.Title, r.Description, workaround); err != nil {
					return nil, err
				}
				changes := audit.Diff(keAudited, map[string]any{}, keFields(row))
				if prob != nil {
					changes = append(changes, audit.Change{Field: "problem", New: prob.Number})
				}
				return changes, nil
			}})
		if err != nil {
			return err
		}
		number = r.Number
		if prob != nil {
			if _, err := s.records.LinkIn(ctx, tx, r.Number, record.RelatedTo, prob.Number); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.KnownError(ctx, number)
}

// apply returns k changed by c; the service is the record's, given apart.
func (c KnownErrorChange) apply(k keRow) keRow {
	if c.RootCause != nil {
		k.RootCause = strings.TrimSpace(*c.RootCause)
	}
	if c.Workaround != nil {
		k.Workaround = *c.Workaround
	}
	if c.Category != nil {
		k.Category = strings.TrimSpace(*c.Category)
	}
	if c.Subcategory != nil {
		k.Subcategory = strings.TrimSpace(*c.Subcategory)
	}
	if c.CIID != nil {
		k.CIID = *c.CIID
	}
	return k
}

// UpdateKnownError changes a known error (PM4: the caller needs R or A for
// it), each changed field audited with its old and new value. A workaround
// set to "" inherits the problem's again. A published known error must keep
// its symptoms and a root cause or a workaround; a retired one is not changed.
func (s *Service) UpdateKnownError(ctx context.Context, number string, version int64, c KnownErrorChange) (out KnownError, err error) {
	defer errs.Wrap(&err, "update known error %s", number)
	r, err := s.get(ctx, KnownErrorType, number)
	if err != nil {
		return out, err
	}
	if version == 0 {
		version = r.Version
	}
	if c.Category != nil || c.Subcategory != nil {
		old, err := loadKeRow(ctx, s.db, r.ID)
		if err != nil {
			return out, err
		}
		n := c.apply(old)
		if err := s.checkCategory(ctx, "body.", n.Category, n.Subcategory); err != nil {
			return out, err
		}
	}
	_, err = s.records.Amend(ctx, r.Number, record.Amendment{Version: version,
		Fields: record.Update{Title: c.Title, Description: c.Symptoms, ServiceID: c.ServiceID, Marking: c.Marking},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			old, err := loadKeRow(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			n := c.apply(old)
			n.ServiceID = cur.ServiceID
			if c.ServiceID != nil {
				n.ServiceID = *c.ServiceID
			}
			title, symptoms := cur.Title, cur.Description
			if c.Title != nil {
				title = strings.TrimSpace(*c.Title)
			}
			if c.Symptoms != nil {
				symptoms = *c.Symptoms
			}
			if err := knownErrorFields(symptoms, n.RootCause, n.Workaround, n.Category, n.Subcategory, n.ServiceID, n.CIID); err != nil {
				return nil, err
			}
			if err := checkRefs(ctx, tx, n.ServiceID, old.ServiceID, n.CIID, old.CIID); err != nil {
				return nil, err
			}
			workaround := n.Workaround
			if workaround == "" && n.ProblemID != 0 {
				st, err := loadProblemState(ctx, tx, n.ProblemID)
				if err != nil {
					return nil, err
				}
				workaround = st.Workaround
			}
			if cur.State == Published {
				if err := publishable(cur.Number, symptoms, n.RootCause, workaround); err != nil {
					return nil, err
				}
			}
			changes := audit.Diff(keAudited, keFields(old), keFields(n))
			if len(changes) > 0 || n.ServiceID != old.ServiceID {
				if err := updateKnownError(ctx, tx, cur.ID, n); err != nil {
					return nil, err
				}
			}
			if title != cur.Title || symptoms != cur.Description || n.Workaround != old.Workaround {
				if err := s.index(ctx, tx, cur.ID, title, symptoms, workaround); err != nil {
					return nil, err
				}
			}
			return changes, nil
		}})
	if err != nil {
		return out, err
	}
	return s.KnownError(ctx, r.Number)
}

// KnownError returns a known error by its number.
func (s *Service) KnownError(ctx context.Context, number string) (out KnownError, err error) {
	defer errs.Wrap(&err, "read known error %s", number)
	r, err := s.get(ctx, KnownErrorType, number)
	if err != nil {
		return out, err
	}
	return loadKnownError(ctx, s.db, r.ID)
}

// KnownErrors pages the known errors matching f, newest first unless p sorts
// otherwise, and counts them all: one count and one page query. With Q, it
// keeps the known errors holding every word of it (as a prefix) in their
// title, symptoms or workaround; a Q without a word finds nothing.
func (s *Service) KnownErrors(ctx context.Context, f KnownErrorFilter, p listing.Params) (page listing.Page[KnownError], total int64, err error) {
	defer errs.Wrap(&err, "list known errors")
	page.Items = []KnownError{}
	var fe fieldErrs
	if f.State != "" && !slices.Contains([]string{Draft, Published, Retired}, f.State) {
		fe.add("query.state", "one of draft, published, retired", f.State)
	}
	fe.checkKeys("query.", f.Category, f.Subcategory)
	if f.ServiceID < 0 {
		fe.add("query.service", "a service id", f.ServiceID)
	}
	if f.CIID < 0 {
		fe.add("query.ci", "a CI id", f.CIID)
	}
	fe.text("query.q", f.Q, 500)
	if err := fe.err(); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	add := func(field string, v any) { lf = append(lf, listing.Filter{Field: field, Value: v}) }
	if f.Problem != "" {
		r, err := s.get(ctx, ProblemType, f.Problem)
		if errs.Is(err, errs.NotFound) {
			return page, 0, errs.Field("query.problem", "no such problem", f.Problem)
		}
		if err != nil {
			return page, 0, err
		}
		add("problemId", r.ID)
	}
	if f.State != "" {
		add("state", f.State)
	}
	if f.ServiceID != 0 {
		add("serviceId", f.ServiceID)
	}
	if f.CIID != 0 {
		add("ciId", f.CIID)
	}
	if f.Category != "" {
		add("category", f.Category)
	}
	if f.Subcategory != "" {
		add("subcategory", f.Subcategory)
	}
	if strings.TrimSpace(f.Q) != "" {
		terms := Terms(f.Q)
		if len(terms) == 0 {
			return page, 0, nil
		}
		cond, args := s.text.everyWord(terms)
		lf = append(lf, listing.Filter{Where: cond, Args: args})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, knownErrorSource, p, lf)
}

// KnownErrorActions lists the workflow steps allowed from a known error's
// state, with the activity each performs and the guard's decision for the caller.
func (s *Service) KnownErrorActions(ctx context.Context, number string) ([]record.Action, error) {
	r, err := s.get(ctx, KnownErrorType, number)
	if err != nil {
		return nil, err
	}
	return s.records.Actions(ctx, r.Number)
}

// PerformKnownError takes a workflow step of a known error through the
// kernel, whose RACI guard decides: publish (PM4) offers it to agents, retire
// (PM6) withdraws it.
func (s *Service) PerformKnownError(ctx context.Context, number, action string, version int64, comment string) (out ProblemStepResult, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	r, err := s.get(ctx, KnownErrorType, number)
	if err != nil {
		return out, err
	}
	return s.perform(ctx, r.Number, action, version, comment)
}

// FindKnownErrors offers the published known errors that match an incident
// (IM4): scored by MatchScore on the incident's informative words (see
// InformativeTerms), CI, service, category and subcategory, best first (the
// newest first among equals), each with why, at most q.Limit, none under
// MinScore. It reads how common the words are in one query (primary-key
// lookups) and the candidates in another, each bounded whatever the size of the KEDB.
func (s *Service) FindKnownErrors(ctx context.Context, q KnownErrorQuery) (out []KnownErrorMatch, err error) {
	defer errs.Wrap(&err, "find known errors")
	out = []KnownErrorMatch{}
	q.Category, q.Subcategory = strings.TrimSpace(q.Category), strings.TrimSpace(q.Subcategory)
	if q.CIID < 0 {
		q.CIID = 0
	}
	if q.ServiceID < 0 {
		q.ServiceID = 0
	}
	terms, search := Terms(q.Text), []string(nil)
	if len(terms) > 0 {
		df, published, err := docFreqs(ctx, s.db, terms)
		if err != nil {
			return out, err
		}
		terms, search = InformativeTerms(terms, df, published)
	}
	cands, err := loadCandidates(ctx, s.db, s.text, q, search)
	if err != nil {
		return out, err
	}
	type scored struct {
		m  KnownErrorMatch
		id int64
	}
	var list []scored
	for _, c := range cands {
		score, why := MatchScore(q, terms, c.Candidate)
		if score < MinScore {
			continue
		}
		list = append(list, scored{id: c.ID, m: KnownErrorMatch{Number: c.Number, Title: c.Title, Workaround: c.Workaround,
			Problem: c.Problem, Score: score, Why: why}})
	}
	slices.SortFunc(list, func(a, b scored) int {
		if c := cmp.Compare(b.m.Score, a.m.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	for i := 0; i < len(list) && i < clampLimit(q.Limit); i++ {
		out = append(out, list[i].m)
	}
	return out, nil
}

// index writes a known error's full-text entry and its words, in tx.
func (s *Service) index(ctx context.Context, tx *db.Tx, id int64, title, symptoms, workaround string) error {
	if err := s.text.put(ctx, tx, id, title, symptoms, workaround); err != nil {
		return err
	}
	return putWords(ctx, tx, id, title, symptoms, workaround)
}
