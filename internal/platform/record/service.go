package record

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// DefaultMaxAttachment is the attachment size limit when Config names none: 10 MiB.
const DefaultMaxAttachment = 10 << 20

// Gate says what an activity waits for before a step that performs it completes.
type Gate struct {
	// Approval waits for an accountable (A) holder to approve.
	Approval bool
	// Consultation waits for every consulted (C) holder to answer, or for their consultation to be waived.
	Consultation bool
}

// GateFunc reads the organisation's per-activity settings (requires_approval,
// requires_consultation). It adds to what a Transition declares; it cannot take a declared gate away.
type GateFunc func(ctx context.Context, process, activity string) (Gate, error)

// ActivitySettings reads an activity's workflow settings; raci.Service implements it.
type ActivitySettings interface {
	Activity(ctx context.Context, process, code string) (raci.ProcessActivity, error)
}

// ActivityGates turns the RACI service's per-activity settings (requires_approval,
// requires_consultation) into gates.
func ActivityGates(a ActivitySettings) GateFunc {
	return func(ctx context.Context, process, activity string) (Gate, error) {
		pa, err := a.Activity(ctx, process, activity)
		if err != nil {
			return Gate{}, err
		}
		return Gate{Approval: pa.RequiresApproval, Consultation: pa.RequiresConsultation}, nil
	}
}

// Config holds the kernel's limits.
type Config struct {
	// MaxAttachment is the largest attachment in bytes; 0 means DefaultMaxAttachment.
	MaxAttachment int64
	// AllowExecutables accepts native executables (PE, ELF, Mach-O) as attachments.
	AllowExecutables bool
}

// Deps are what the kernel needs.
type Deps struct {
	DB    *db.DB
	Guard raci.Guard
	// Gates reads the organisation's approval and consultation settings per
	// activity. When nil and Guard has activity settings (raci.Service does), they are used.
	Gates GateFunc
	// Model, when set, lets Register check that every activity exists in the type's process.
	Model  *framework.Model
	Trail  *audit.Trail
	Events *outbox.Outbox
	Clock  clock.Clock
	Config Config
}

// Service holds the record use cases. Each mutation is one transaction with its audit entries and outbox events.
type Service struct {
	db     *db.DB
	guard  raci.Guard
	gates  GateFunc
	model  *framework.Model
	trail  *audit.Trail
	events *outbox.Outbox
	clock  clock.Clock
	cfg    Config
	text   textIndex

	mu    sync.RWMutex
	types map[string]*Type
}

// New returns the kernel over d's store.
func New(d Deps) *Service {
	if d.Config.MaxAttachment <= 0 {
		d.Config.MaxAttachment = DefaultMaxAttachment
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if a, ok := d.Guard.(ActivitySettings); ok && d.Gates == nil {
		d.Gates = ActivityGates(a)
	}
	return &Service{db: d.DB, guard: d.Guard, gates: d.Gates, model: d.Model, trail: d.Trail, events: d.Events,
		clock: d.Clock, cfg: d.Config, text: newTextIndex(d.DB.Engine()), types: map[string]*Type{}}
}

// MaxAttachment is the attachment size limit in bytes.
func (s *Service) MaxAttachment() int64 { return s.cfg.MaxAttachment }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// Register adds a record type. Areas call it while the application is wired,
// before serving. Its name and default prefix must be unused, and with a
// reference model every activity must belong to the type's process.
func (s *Service) Register(t Type) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if s.model != nil && !t.ProcessPerRecord {
		if s.model.Process(t.Process) == nil {
			return errs.E(errs.Invalid, "record type %s: no process %q in the reference model", t.Name, t.Process)
		}
		for _, code := range t.Activities() {
			a := s.model.Activity(code)
			ok := a != nil && a.Process == t.Process
			if a != nil && !ok {
				// A TAXUD sub-process's activity belongs to its parent process too.
				ap := s.model.Process(a.Process)
				ok = ap != nil && ap.Parent == t.Process
			}
			if !ok {
				return errs.E(errs.Invalid, "record type %s: %s is not an activity of process %s", t.Name, code, t.Process)
			}
		}
		for _, c := range t.Controls() {
			if _, err := ControlActivity(s.model, t.Process, c); err != nil {
				return fmt.Errorf("record type %s: %w", t.Name, err)
			}
		}
	}
	// Keep a copy the caller cannot change afterwards.
	t.States = slices.Clone(t.States)
	t.Transitions = slices.Clone(t.Transitions)
	for i := range t.Transitions {
		t.Transitions[i].From = slices.Clone(t.Transitions[i].From)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.types[t.Name]; dup {
		return errs.E(errs.Conflict, "record type %s is registered twice", t.Name)
	}
	for _, o := range s.types {
		if o.Prefix == t.Prefix {
			return errs.E(errs.Conflict, "record types %s and %s both default to the prefix %s", o.Name, t.Name, t.Prefix)
		}
	}
	s.types[t.Name] = &t
	return nil
}

// typ returns a registered type.
func (s *Service) typ(name string) (*Type, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.types[name]
	if !ok {
		return nil, errs.E(errs.NotFound, "no record type %q", name)
	}
	return t, nil
}

// Type returns a registered type.
func (s *Service) Type(name string) (Type, error) {
	t, err := s.typ(name)
	if err != nil {
		return Type{}, err
	}
	return *t, nil
}

// TypeInfo is a registered type with the prefix its numbers are drawn with now.
type TypeInfo struct {
	Type
	// CurrentPrefix is the administrator's prefix, or the default one.
	CurrentPrefix string `json:"currentPrefix"`
	// PrefixVersion counts the prefix row's writes: 0 before the first record or change.
	PrefixVersion int64 `json:"prefixVersion"`
}

// Types lists the registered types by name, with their current prefixes.
func (s *Service) Types(ctx context.Context) ([]TypeInfo, error) {
	s.mu.RLock()
	list := make([]*Type, 0, len(s.types))
	for _, t := range s.types {
		list = append(list, t)
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b *Type) int { return strings.Compare(a.Name, b.Name) })
	rows, err := s.db.QueryContext(ctx, `SELECT name, prefix, version FROM record_types`)
	if err != nil {
		return nil, fmt.Errorf("read prefixes: %w", err)
	}
	defer rows.Close()
	type prefixRow struct {
		prefix  string
		version int64
	}
	stored := map[string]prefixRow{}
	for rows.Next() {
		var n string
		var p prefixRow
		if err := rows.Scan(&n, &p.prefix, &p.version); err != nil {
			return nil, err
		}
		stored[n] = p
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]TypeInfo, 0, len(list))
	for _, t := range list {
		ti := TypeInfo{Type: *t, CurrentPrefix: t.Prefix}
		if p, ok := stored[t.Name]; ok {
			ti.CurrentPrefix, ti.PrefixVersion = p.prefix, p.version
		}
		out = append(out, ti)
	}
	return out, nil
}

// SetPrefix changes the prefix new numbers of a type are drawn with. Numbers
// already given keep theirs. A prefix another type uses, defaults to, or has
// numbered records with is refused, so numbers stay unique.
func (s *Service) SetPrefix(ctx context.Context, typeName, prefix string) (out TypeInfo, err error) {
	defer errs.Wrap(&err, "set prefix of %s", typeName)
	t, err := s.typ(typeName)
	if err != nil {
		return out, err
	}
	if err := ValidatePrefix("body.prefix", prefix); err != nil {
		return out, err
	}
	s.mu.RLock()
	for _, o := range s.types {
		if o.Name != t.Name && o.Prefix == prefix {
			s.mu.RUnlock()
			return out, errs.E(errs.Conflict, "%s is the default prefix of %s", prefix, o.Name)
		}
	}
	s.mu.RUnlock()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, _, err := currentPrefix(ctx, tx, t.Name, t.Prefix)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE type <> ? AND substr(number, 1, ?) = ?
			AND substr(number, ?, 1) IN ('0','1','2','3','4','5','6','7','8','9')`,
			t.Name, len(prefix), prefix, len(prefix)+1).Scan(&n); err != nil {
			return fmt.Errorf("check prefix use: %w", err)
		}
		if n > 0 {
			return errs.E(errs.Conflict, "records of another type are numbered %s…", prefix)
		}
		now := s.now()
		var v int64
		err = tx.QueryRowContext(ctx, `INSERT INTO record_types (name, prefix, last_number, updated_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (name) DO UPDATE SET prefix = excluded.prefix, updated_at = excluded.updated_at,
			version = record_types.version + 1 RETURNING version`, t.Name, prefix, now).Scan(&v)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "another record type uses the prefix %s", prefix)
		}
		if err != nil {
			return err
		}
		out = TypeInfo{Type: *t, CurrentPrefix: prefix, PrefixVersion: v}
		s.trail.Record(ctx, tx, audit.Entry{Action: "record.prefix.set", ObjectType: "record_type", ObjectID: t.Name,
			Changes: []audit.Change{{Field: "prefix", Old: old, New: prefix}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "record.prefix_changed", Subject: "record_type/" + t.Name,
			Data: map[string]any{"type": t.Name, "old": old, "new": prefix}})
	})
	return out, err
}

// principal returns the caller, or Unauthenticated.
func principal(ctx context.Context) (*auth.Principal, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in first")
	}
	return p, nil
}

// actorName names the caller in journal entries.
func actorName(p *auth.Principal) (int64, string) {
	if p == nil {
		return 0, "system"
	}
	return p.UserID, p.Username
}

func scope(r *Record) raci.Scope { return raci.Scope{TeamID: r.TeamID, ServiceID: r.ServiceID} }

func subject(r *Record) string { return "record/" + r.Number }

// visible applies the type's visibility hook; a hidden record reads as not found.
func (s *Service) visible(ctx context.Context, t *Type, r *Record) error {
	if t.Visible == nil {
		return nil
	}
	if !t.Visible(ctx, auth.PrincipalFrom(ctx), r) {
		return errs.E(errs.NotFound, "no record %s", r.Number)
	}
	return nil
}

// visibleOnly drops the records the caller may not see.
func (s *Service) visibleOnly(ctx context.Context, rs []Record) []Record {
	out := make([]Record, 0, len(rs))
	for i := range rs {
		t, err := s.typ(rs[i].Type)
		if err == nil && s.visible(ctx, t, &rs[i]) != nil {
			continue
		}
		out = append(out, rs[i])
	}
	return out
}

// hidden reports whether the caller may not see a record of typeName; it reads
// the record only when the type has a visibility hook.
func (s *Service) hidden(ctx context.Context, typeName string, id int64) bool {
	t, err := s.typ(typeName)
	if err != nil || t.Visible == nil {
		return false
	}
	r, err := loadRecordByID(ctx, s.db, s.db, id, false)
	return err != nil || s.visible(ctx, t, &r) != nil
}

// read loads a record the caller may see, with its type, from the reader pool.
func (s *Service) read(ctx context.Context, number string) (Record, *Type, error) {
	r, err := loadRecord(ctx, s.db, s.db, NormalizeNumber(number), false)
	if err != nil {
		return r, nil, err
	}
	t, err := s.typ(r.Type)
	if err != nil {
		return r, nil, fmt.Errorf("record %s has the unregistered type %s: %w", r.Number, r.Type, err)
	}
	return r, t, s.visible(ctx, t, &r)
}

// Get returns a record by its number.
func (s *Service) Get(ctx context.Context, number string) (Record, error) {
	r, _, err := s.read(ctx, number)
	return r, err
}

// recordFields is the audited view of a record's fields.
func recordFields(r Record) map[string]any {
	return map[string]any{"title": r.Title, "description": r.Description, "state": r.State, "priority": r.Priority,
		"teamId": r.TeamID, "assigneeId": r.AssigneeID, "requesterId": r.RequesterID, "serviceId": r.ServiceID,
		"marking": r.Marking, "reassignments": r.Reassignments}
}

var auditedFields = []string{"title", "description", "state", "priority", "teamId", "assigneeId", "requesterId",
	"serviceId", "marking", "reassignments"}

// Create opens a record of a type in its initial state and numbers it. The
// requester defaults to the caller. Areas call it; there is no generic create
// endpoint. With the type's CreateActivity or CreateControl set, only its R or
// A holders (in the new record's process and scope) may create.
func (s *Service) Create(ctx context.Context, typeName string, in NewRecord) (out Record, err error) {
	defer errs.Wrap(&err, "create %s", typeName)
	ctx = raci.WithRequestCache(ctx)
	pc, err := s.prepareCreate(ctx, nil, typeName, in)
	if err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out, err = s.create(ctx, tx, pc, in)
		return err
	})
	return out, err
}

// CreateIn is Create inside a transaction an area already holds, so that a use
// case spanning records commits as one: an incident reclassified as a service
// request, say, or a problem raised with its incidents linked. The guard is
// asked as Create asks it.
func (s *Service) CreateIn(ctx context.Context, tx *db.Tx, typeName string, in NewRecord) (out Record, err error) {
	defer errs.Wrap(&err, "create %s", typeName)
	ctx = raci.WithRequestCache(ctx)
	pc, err := s.prepareCreate(ctx, tx, typeName, in)
	if err != nil {
		return out, err
	}
	return s.create(ctx, tx, pc, in)
}

// pendingCreate is a checked and authorised record about to be inserted.
type pendingCreate struct {
	t        *Type
	r        Record
	p        *auth.Principal
	override bool
}

// prepareCreate validates a new record and asks the guard, before any write
// (of tx, when the caller holds one).
func (s *Service) prepareCreate(ctx context.Context, tx *db.Tx, typeName string, in NewRecord) (pc pendingCreate, err error) {
	t, err := s.typ(typeName)
	if err != nil {
		return pc, err
	}
	p := auth.PrincipalFrom(ctx)
	r := Record{Type: t.Name, Title: in.Title, Description: in.Description, State: t.Initial, Priority: in.Priority,
		TeamID: in.TeamID, AssigneeID: in.AssigneeID, RequesterID: in.RequesterID, ServiceID: in.ServiceID, Marking: in.Marking}
	if r.RequesterID == 0 && p != nil {
		r.RequesterID = p.UserID
	}
	if err := validateFields(&r); err != nil {
		return pc, err
	}
	if r.Process, err = s.checkProcess(t, in.Process); err != nil {
		return pc, err
	}
	override := false
	if t.CreateActivity != "" || t.CreateControl != "" {
		if p == nil {
			return pc, errs.E(errs.Unauthenticated, "sign in first")
		}
		process, activity, err := s.resolveRef(t, &r, t.CreateActivity, t.CreateControl)
		if err != nil {
			return pc, err
		}
		d, err := s.authorizeIn(ctx, tx, p, process, &r, activity, "create")
		if err != nil {
			return pc, err
		}
		override = d.Override
	}
	return pendingCreate{t: t, r: r, p: p, override: override}, nil
}

// create inserts a prepared record in tx, numbered, journalled, indexed, audited and announced.
func (s *Service) create(ctx context.Context, tx *db.Tx, pc pendingCreate, in NewRecord) (out Record, err error) {
	t, r, p := pc.t, pc.r, pc.p
	if err := checkAssignment(ctx, tx, r.TeamID, r.AssigneeID); err != nil {
		return out, err
	}
	now := s.now()
	if r.Number, err = nextNumber(ctx, tx, t, now); err != nil {
		return out, err
	}
	if out, err = insertRecord(ctx, tx, r, now); err != nil {
		return out, err
	}
	if err := s.text.put(ctx, tx, out); err != nil {
		return out, err
	}
	st, _ := t.State(out.State)
	uid, uname := actorName(p)
	if _, err := addJournal(ctx, tx, out.ID, System, fmt.Sprintf("%s %s logged as %s.", t.label(), out.Number, st.Label), uid, uname, now); err != nil {
		return out, err
	}
	changes := audit.Diff(append([]string{"type", "number", "process"}, auditedFields...), map[string]any{},
		mergeFields(recordFields(out), map[string]any{"type": out.Type, "number": out.Number, "process": out.Process}))
	if in.With != nil {
		more, err := in.With(ctx, tx, out)
		if err != nil {
			return out, err
		}
		changes = append(changes, more...)
	}
	action := "record.create"
	if pc.override {
		action = "record.create.override"
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record", ObjectID: out.Number, Changes: changes})
	return out, s.events.Emit(ctx, tx, outbox.Event{Type: "record.created", Subject: subject(&out), Data: out})
}

func mergeFields(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// label is the type's display name.
func (t *Type) label() string {
	if t.Label != "" {
		return t.Label
	}
	return t.Name
}
