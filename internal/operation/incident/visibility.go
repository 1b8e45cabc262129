package incident

import (
	"context"
	"sync"

	"steward/internal/platform/auth"
	"steward/internal/platform/record"
)

// Security incidents are visible only to their caller, their assignee,
// administrators, every holder of a role assigned for ISM (directly or
// through a team), and the holders of the settings' security roles assigned
// for IM (or its domain, or everywhere). Everyone else reads them as not
// found: the kernel asks Service.visibleHook for single records, and the
// service's own lists, searches and trends add securityCond to their SQL.

// memo is the per-request cache of what visibility needs: the settings, the
// caller's clearance and the paths of the incidents already read.
type memo struct {
	mu        sync.Mutex
	settings  *IncidentSettings
	clearance map[int64]bool
	paths     map[int64]string
}

type memoKey struct{}

// withMemo returns ctx with a fresh per-request memo, unless it has one.
func withMemo(ctx context.Context) context.Context {
	if memoFrom(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, memoKey{}, &memo{clearance: map[int64]bool{}, paths: map[int64]string{}})
}

func memoFrom(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// notePath remembers the path of an incident the request has read.
func notePath(ctx context.Context, id int64, path string) {
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		m.paths[id] = path
		m.mu.Unlock()
	}
}

// settings returns the settings, read once per request.
func (s *Service) settings(ctx context.Context) (IncidentSettings, error) {
	m := memoFrom(ctx)
	if m != nil {
		m.mu.Lock()
		st := m.settings
		m.mu.Unlock()
		if st != nil {
			return *st, nil
		}
	}
	st, err := loadSettings(ctx, s.db)
	if err != nil {
		return st, err
	}
	if m != nil {
		m.mu.Lock()
		m.settings = &st
		m.mu.Unlock()
	}
	return st, nil
}

// imSubjects are the assignment subjects that count in IM: the process, its domain and everywhere.
func (s *Service) imSubjects() []string {
	out := []string{Process, "*"}
	if s.raci != nil {
		if p := s.raci.Model().Process(Process); p != nil && p.Domain != "" {
			out = append(out, p.Domain)
		}
	}
	return out
}

// clearance reports whether p may see every security incident: an
// administrator, an ISM role holder, or a holder of a security role. It is
// asked once per request.
func (s *Service) clearance(ctx context.Context, p *auth.Principal) (bool, error) {
	if p == nil {
		return false, nil
	}
	if p.Admin {
		return true, nil
	}
	m := memoFrom(ctx)
	if m != nil {
		m.mu.Lock()
		v, ok := m.clearance[p.UserID]
		m.mu.Unlock()
		if ok {
			return v, nil
		}
	}
	st, err := s.settings(ctx)
	if err != nil {
		return false, err
	}
	ok, err := cleared(ctx, s.db, p.UserID, st.SecurityRoles, s.imSubjects())
	if err != nil {
		return false, err
	}
	if m != nil {
		m.mu.Lock()
		m.clearance[p.UserID] = ok
		m.mu.Unlock()
	}
	return ok, nil
}

// sees reports whether p may see an incident on path, given the record.
func (s *Service) sees(ctx context.Context, p *auth.Principal, r *record.Record, path string) (bool, error) {
	if p == nil {
		return false, nil
	}
	if path != PathSecurity || p.Admin || (r.RequesterID != 0 && r.RequesterID == p.UserID) ||
		(r.AssigneeID != 0 && r.AssigneeID == p.UserID) {
		return true, nil
	}
	return s.clearance(ctx, p)
}

// visibleHook is the incident type's record.Visibility: it reads the
// incident's path (remembered when the request read the incident already) and
// applies sees. It fails closed: an error hides the incident.
func (s *Service) visibleHook(ctx context.Context, p *auth.Principal, r *record.Record) bool {
	if p == nil {
		return false
	}
	if p.Admin || (r.RequesterID != 0 && r.RequesterID == p.UserID) || (r.AssigneeID != 0 && r.AssigneeID == p.UserID) {
		return true
	}
	path, known := "", false
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		path, known = m.paths[r.ID]
		m.mu.Unlock()
	}
	if !known {
		var err error
		if path, err = pathOf(ctx, s.db, r.ID); err != nil {
			return false
		}
	}
	ok, err := s.sees(ctx, p, r, path)
	return err == nil && ok
}

// securityCond is the SQL condition that keeps from "records r" the incidents
// p may see, with its arguments; "" when p sees them all.
func (s *Service) securityCond(ctx context.Context, p *auth.Principal) (string, []any, error) {
	ok, err := s.clearance(ctx, p)
	if err != nil || ok {
		return "", nil, err
	}
	var uid int64
	if p != nil {
		uid = p.UserID
	}
	// An anti-join on the (few) security incidents, through incidents_path,
	// so that a count need not join every incident row.
	return `(r.requester_id = ? OR r.assignee_id = ? OR r.id NOT IN (SELECT record_id FROM incidents WHERE path = 'security'))`,
		[]any{uid, uid}, nil
}
