package raci

import (
	"context"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
)

// ---- the guard ----

// Decide tells whether p may perform the activity of process for a record in scope: allowed
// when p holds (directly or through a team they are a member of) a role whose cell for the
// activity holds R or A, by an assignment that is unscoped or covers scope; an administrator
// who holds none is allowed with Override. Within WithRequestCache it costs no query after
// the request's first decision for the user. Unknown codes are errs.NotFound (process) and
// errs.Invalid (activity).
func (s *Service) Decide(ctx context.Context, p *auth.Principal, process, activity string, scope Scope) (Decision, error) {
	st, pv, err := s.view(ctx, process)
	if err != nil {
		return Decision{}, err
	}
	act, ok := pv.activity(activity)
	if !ok {
		return Decision{}, errs.Field("activity", "unknown activity: "+activity+" is not an activity of "+process, activity)
	}
	if p == nil {
		d := st.decide(pv, act, nil, scope, false)
		d.Explanation = "you are not signed in; " + needs(d.Performers)
		return d, nil
	}
	mine, err := s.heldBy(ctx, p.UserID)
	if err != nil {
		return Decision{}, err
	}
	return st.decide(pv, act, mine, scope, p.Admin), nil
}

// Holders lists the enabled users holding, in scope, a role whose cell for the activity
// holds any of letter's letters, once each (teams expanded to their members): the A holder
// approves, C holders are consulted, I holders are informed. Within WithRequestCache it costs
// one query per process per request.
func (s *Service) Holders(ctx context.Context, process, activity string, letter framework.Cell, scope Scope) ([]Holder, error) {
	st, pv, err := s.view(ctx, process)
	if err != nil {
		return nil, err
	}
	if _, ok := pv.activity(activity); !ok {
		return nil, errs.Field("activity", "unknown activity: "+activity+" is not an activity of "+process, activity)
	}
	if letter == 0 || !letter.Valid() {
		return nil, errs.Field("letter", "one or more of R, A, C, I", letter.String())
	}
	// Only the roles whose cell holds the letter are loaded: informing the I
	// holders of one step must not read every holder of the process.
	row, _ := pv.matrix.Row(activity)
	var roles []string
	for _, role := range pv.matrix.Roles {
		if row.Cells[role]&letter != 0 {
			roles = append(roles, role)
		}
	}
	if len(roles) == 0 {
		return []Holder{}, nil
	}
	rows, err := s.processHolders(ctx, pv.proc, roles)
	if err != nil {
		return nil, err
	}
	return st.holders(pv, activity, letter, scope, rows), nil
}
