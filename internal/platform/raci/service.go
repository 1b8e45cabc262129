package raci

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// RecheckAfter is how long a node trusts its cached tailoring before it asks the database
// (one cheap query) whether another node changed it. Changes made on the node itself take
// effect at once.
const RecheckAfter = 2 * time.Second

// Service keeps each process's tailoring (matrix, local roles and activities, activity
// settings) and the people in process roles, and decides through them who may perform an
// activity: it is the Guard.
type Service struct {
	db     *db.DB
	read   db.Queryer
	model  *framework.Model
	trail  *audit.Trail
	events *outbox.Outbox
	clock  clock.Clock
	cache  *stateCache
	banner func(context.Context) string
}

var _ Guard = (*Service)(nil)

// stateCache holds this node's copy of the tailored model.
type stateCache struct {
	mu      sync.Mutex // held while loading, so an invalidation never races a load
	st      *state
	checked time.Time
}

// New returns the service over d and the reference model m.
func New(d *db.DB, m *framework.Model, trail *audit.Trail, events *outbox.Outbox, c clock.Clock) *Service {
	return &Service{db: d, read: d, model: m, trail: trail, events: events, clock: c, cache: &stateCache{}}
}

// SetBanner sets the function that gives the classification marking printed at the top and
// bottom of exports (the CSV matrix); without it exports carry no marking.
func (s *Service) SetBanner(fn func(ctx context.Context) string) { s.banner = fn }

// Model returns the reference model the service tailors.
func (s *Service) Model() *framework.Model { return s.model }

// ---- caching ----

// memo is the per-request cache: the tailored model as the request first saw it, each
// user's assignments and each process's holders, loaded at most once per request.
type memo struct {
	mu      sync.Mutex
	st      *state
	held    map[int64][]held
	holders map[string][]holderRow
}

type memoKey struct{}

// WithRequestCache returns ctx with a fresh per-request cache of role resolution: within it,
// a user's assignments are loaded with one query and reused by every decision, and the
// tailored model is read once. Use it for one request (or one job run), not longer.
func WithRequestCache(ctx context.Context) context.Context {
	if memoFrom(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, memoKey{}, &memo{held: map[int64][]held{}, holders: map[string][]holderRow{}})
}

// RequestCache is middleware that gives every request its own role-resolution cache
// (WithRequestCache).
func RequestCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithRequestCache(r.Context())))
	})
}

func memoFrom(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// state returns the tailored model: the request's copy, else this node's cached copy
// (re-checked by generation after RecheckAfter), else a fresh load.
func (s *Service) state(ctx context.Context) (*state, error) {
	m := memoFrom(ctx)
	if m != nil {
		m.mu.Lock()
		st := m.st
		m.mu.Unlock()
		if st != nil {
			return st, nil
		}
	}
	st, err := s.shared(ctx)
	if err != nil {
		return nil, err
	}
	if m != nil {
		m.mu.Lock()
		m.st = st
		m.mu.Unlock()
	}
	return st, nil
}

func (s *Service) shared(ctx context.Context) (*state, error) {
	c := s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.clock.Now()
	if c.st != nil {
		if age := now.Sub(c.checked); age >= 0 && age < RecheckAfter {
			return c.st, nil
		}
		g, err := loadGeneration(ctx, s.read)
		if err != nil {
			return nil, err
		}
		if g == c.st.generation {
			c.checked = now
			return c.st, nil
		}
	}
	t, err := loadTailoring(ctx, s.read)
	if err != nil {
		return nil, err
	}
	c.st, c.checked = buildState(s.model, t), now
	return c.st, nil
}

// invalidate drops this node's cached tailoring and the request's copies after a change.
func (s *Service) invalidate(ctx context.Context) {
	s.cache.mu.Lock()
	s.cache.st = nil
	s.cache.mu.Unlock()
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		m.st = nil
		m.held = map[int64][]held{}
		m.holders = map[string][]holderRow{}
		m.mu.Unlock()
	}
}

// heldBy returns the assignments a user holds, directly or through teams: once per request.
func (s *Service) heldBy(ctx context.Context, userID int64) ([]held, error) {
	m := memoFrom(ctx)
	if m != nil {
		m.mu.Lock()
		h, ok := m.held[userID]
		m.mu.Unlock()
		if ok {
			return h, nil
		}
	}
	h, err := loadHeld(ctx, s.read, userID)
	if err != nil {
		return nil, err
	}
	if m != nil {
		m.mu.Lock()
		m.held[userID] = h
		m.mu.Unlock()
	}
	return h, nil
}

// processHolders returns the assignments to roles that count in a process, expanded to
// users. The first look-up of a request reads only the roles it needs (informing the I
// holders of one step must not read every holder of the process); a second look-up of the
// same process in the same request reads the whole process once, so that many look-ups
// still cost at most two queries.
func (s *Service) processHolders(ctx context.Context, p *framework.Process, roles []string) ([]holderRow, error) {
	all := p.Code + "|*"
	key := p.Code + "|" + strings.Join(roles, ",")
	m := memoFrom(ctx)
	if m != nil {
		m.mu.Lock()
		h, ok := m.holders[all]
		if !ok {
			h, ok = m.holders[key]
		}
		if !ok {
			for k := range m.holders {
				if strings.HasPrefix(k, p.Code+"|") {
					key, roles = all, nil
					break
				}
			}
		}
		m.mu.Unlock()
		if ok {
			return h, nil
		}
	}
	h, err := loadHolders(ctx, s.read, subjectsOf(p), roles)
	if err != nil {
		return nil, err
	}
	if m != nil {
		m.mu.Lock()
		m.holders[key] = h
		m.mu.Unlock()
	}
	return h, nil
}

// view returns the state and a process's view, or errs.NotFound.
func (s *Service) view(ctx context.Context, process string) (*state, *procView, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, nil, err
	}
	pv := st.process(process)
	if pv == nil {
		return nil, nil, errs.E(errs.NotFound, "no process with code %q", process)
	}
	return st, pv, nil
}

// ---- reading the tailored model ----

// Matrix returns a process's RACI matrix as tailored (or its default), the version that is
// its ETag, and whether it is tailored.
func (s *Service) Matrix(ctx context.Context, process string) (m framework.Matrix, version int64, tailored bool, err error) {
	_, pv, err := s.view(ctx, process)
	if err != nil {
		return m, 0, false, err
	}
	return pv.matrix.Clone(), pv.version, pv.tailored, nil
}

// DefaultMatrix returns the matrix ResetMatrix would restore: the reference model's
// default, with default rows for the process's local activities.
func (s *Service) DefaultMatrix(ctx context.Context, process string) (framework.Matrix, error) {
	st, pv, err := s.view(ctx, process)
	if err != nil {
		return framework.Matrix{}, err
	}
	return st.defaultMatrix(pv), nil
}

// Roles lists a process's roles with their display names: its matrix columns, the roles the
// seed names for it, the process owner and manager, and its local roles. With process ""
// it lists the catalogue: every seed role and every local role.
func (s *Service) Roles(ctx context.Context, process string) ([]ProcessRole, error) {
	if process == "" {
		st, err := s.state(ctx)
		if err != nil {
			return nil, err
		}
		return st.roles(nil), nil
	}
	st, pv, err := s.view(ctx, process)
	if err != nil {
		return nil, err
	}
	return st.roles(pv), nil
}

// Activities lists a process's activities in order: the seed's, with local activities and
// sub-steps after the activity they follow, each with its workflow settings.
func (s *Service) Activities(ctx context.Context, process string) ([]ProcessActivity, error) {
	_, pv, err := s.view(ctx, process)
	if err != nil {
		return nil, err
	}
	return append([]ProcessActivity(nil), pv.activities...), nil
}

// Activity returns one activity of a process with its workflow settings (requires_approval,
// requires_consultation); an unknown activity is errs.Invalid. It reads the cached model.
func (s *Service) Activity(ctx context.Context, process, code string) (ProcessActivity, error) {
	_, pv, err := s.view(ctx, process)
	if err != nil {
		return ProcessActivity{}, err
	}
	a, ok := pv.activity(code)
	if !ok {
		return ProcessActivity{}, errs.Field("activity", "unknown activity: "+code+" is not an activity of "+process, code)
	}
	return a, nil
}

// RoleName returns a role's display name in a process (the catalogue's with process "").
func (s *Service) RoleName(ctx context.Context, process, role string) (string, error) {
	st, err := s.state(ctx)
	if err != nil {
		return "", err
	}
	pv := st.process(process)
	if pv == nil && process != "" {
		return "", errs.E(errs.NotFound, "no process with code %q", process)
	}
	if !st.roleKnown(pv, role) {
		return "", errs.Field("role", "unknown role", role)
	}
	name, _ := st.roleName(pv, role)
	return name, nil
}

// ValidateMatrix checks m as the matrix of process without saving it, returning
// errs.Invalid with one field error per problem (or nil).
func (s *Service) ValidateMatrix(ctx context.Context, process string, m framework.Matrix) error {
	st, pv, err := s.view(ctx, process)
	if err != nil {
		return err
	}
	m.Process = process
	return errs.WithFields(st.matrixProblems(pv, m, newBodyLocator(m)))
}

// MayTailor tells whether p may tailor a process (change its matrix, roles, activities and
// settings, and assign its roles): nil for its process owner and administrators, else
// errs.Forbidden naming who may.
func (s *Service) MayTailor(ctx context.Context, p *auth.Principal, process string) error {
	_, pv, err := s.view(ctx, process)
	if err != nil {
		return err
	}
	return s.mayTailor(ctx, p, pv, "tailor "+process)
}

// mayTailor allows the process's owner and administrators; anyone else gets errs.Forbidden
// naming who may.
func (s *Service) mayTailor(ctx context.Context, p *auth.Principal, pv *procView, doing string) error {
	if p == nil {
		return errs.E(errs.Unauthenticated, "sign in to %s", doing)
	}
	if p.Admin {
		return nil
	}
	mine, err := s.heldBy(ctx, p.UserID)
	if err != nil {
		return err
	}
	for _, h := range mine {
		if h.Role == RoleProcessOwner && applies(h.Subject, pv.proc) {
			return nil
		}
	}
	owners, err := loadHolders(ctx, s.read, []string{pv.proc.Code, pv.proc.Parent}, []string{RoleProcessOwner})
	if err != nil {
		return err
	}
	who := "it has no process owner yet; an administrator assigns one"
	if len(owners) > 0 {
		names := ""
		for i, o := range owners {
			if i > 0 {
				names += ", "
			}
			names += o.username
		}
		who = "its process owner is " + names
	}
	return errs.E(errs.Forbidden, "only the process owner of %s (%s) or an administrator may %s; %s", pv.proc.Code, pv.proc.Name, doing, who)
}
