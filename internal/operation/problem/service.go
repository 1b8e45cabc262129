package problem

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// Taxonomy tells whether a category key (and a subcategory key under it)
// exists in the incident taxonomy. The incident area owns the taxonomy; the
// application adapts it. Without one, keys are only checked for their shape.
type Taxonomy interface {
	KnownCategory(ctx context.Context, category, subcategory string) (bool, error)
}

// Deps are what problem management needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel problems and known errors are records of; its RACI guard decides every step.
	Records *record.Service
	// Trail audits what the steps write besides the record: RFC references, resolutions.
	Trail *audit.Trail
	// Events announces it, in the same transaction.
	Events *outbox.Outbox
	Clock  clock.Clock
	// Taxonomy, when set, checks category keys against the incident taxonomy.
	Taxonomy Taxonomy
}

// Service holds the use cases of problem management and the KEDB. Each
// mutation is one transaction, with its audit entries and outbox events.
type Service struct {
	db       *db.DB
	records  *record.Service
	trail    *audit.Trail
	events   *outbox.Outbox
	clock    clock.Clock
	taxonomy Taxonomy
	text     textIndex
}

// New returns problem management over d and registers its record types with the kernel.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil {
		return nil, fmt.Errorf("problem: DB, Records, Trail and Events are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock, taxonomy: d.Taxonomy,
		text: newTextIndex(d.DB.Engine())}
	for _, t := range []record.Type{s.problemType(), s.knownErrorType()} {
		if err := d.Records.Register(t); err != nil {
			return nil, fmt.Errorf("register %s: %w", t.Name, err)
		}
	}
	return s, nil
}

// MustNew is New for wiring: it panics when the kernel refuses the record
// types, which only a wiring mistake causes (a type or prefix registered twice).
func MustNew(d Deps) *Service {
	s, err := New(d)
	if err != nil {
		panic("problem: " + err.Error())
	}
	return s
}

// detailFields is the audited view of a problem's own fields.
func detailFields(d Details) map[string]any {
	return map[string]any{"category": d.Category, "subcategory": d.Subcategory, "impact": d.Impact, "urgency": d.Urgency,
		"major": d.Major, "ciId": d.CIID}
}

var detailAudited = []string{"category", "subcategory", "impact", "urgency", "major", "ciId"}

// get reads a record of typeName the caller may see; a record of another type is not found.
func (s *Service) get(ctx context.Context, typeName, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != typeName {
		what := "problem"
		if typeName == KnownErrorType {
			what = "known error"
		}
		return r, errs.E(errs.NotFound, "no %s %s", what, record.NormalizeNumber(number))
	}
	return r, nil
}

// authorize asks the PM RACI whether the caller may perform activity on r.
// A refusal is audited and Forbidden. Never call it inside a transaction.
func (s *Service) authorize(ctx context.Context, r record.Record, activity, verb string) error {
	_, err := s.records.Authorize(ctx, Process, activity, verb, "record/"+r.Number, raci.Scope{TeamID: r.TeamID, ServiceID: r.ServiceID})
	return err
}

// amendAs changes a record through the kernel in one transaction, as the
// performer of activity rather than of the type's update activity: the guard
// is asked for activity first, and the kernel then lets the change through.
func (s *Service) amendAs(ctx context.Context, r record.Record, version int64, activity, verb string,
	apply func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error)) (record.Record, error) {
	if err := s.authorize(ctx, r, activity, verb); err != nil {
		return r, err
	}
	if version == 0 {
		version = r.Version
	}
	return s.records.Amend(ctx, r.Number, record.Amendment{Version: version, Verb: verb,
		Permit: func(*auth.Principal, record.Record) bool { return true }, Apply: apply})
}

// checkCategory asks the taxonomy, when there is one, whether the keys exist.
func (s *Service) checkCategory(ctx context.Context, prefix, category, subcategory string) error {
	if s.taxonomy == nil || category == "" {
		return nil
	}
	ok, err := s.taxonomy.KnownCategory(ctx, category, subcategory)
	if err != nil {
		return fmt.Errorf("check category %s/%s: %w", category, subcategory, err)
	}
	if !ok {
		loc, v := prefix+"category", category
		if subcategory != "" {
			loc, v = prefix+"subcategory", subcategory
		}
		return errs.Field(loc, "not in the incident taxonomy", v)
	}
	return nil
}

// Create logs a problem (PM2): by hand, from incidents, which are linked to it
// (the problem causes them) in the same transaction, or from a trend of
// recurring incidents, kept as its origin. Its priority is impact × urgency
// (medium and medium, P3, when it names none). The caller needs R or A for
// PM2. An unknown or invisible incident, a record that is not an incident, an
// unknown or disposed service or CI is Invalid, naming the field; nothing is
// written then.
func (s *Service) Create(ctx context.Context, in NewProblem) (out ProblemDetail, err error) {
	defer errs.Wrap(&err, "log a problem")
	if in.Impact == 0 {
		in.Impact = DefaultImpact
	}
	if in.Urgency == 0 {
		in.Urgency = DefaultUrgency
	}
	numbers, err := validateProblem(&in)
	if err != nil {
		return out, err
	}
	if err := s.checkCategory(ctx, "body.", in.Category, in.Subcategory); err != nil {
		return out, err
	}
	// Ask the guard before the transaction: the kernel audits a refusal in a
	// transaction of its own, which must not wait behind this one.
	if _, err := s.records.Authorize(ctx, Process, ActLog, "log", ProblemType, raci.Scope{ServiceID: in.ServiceID}); err != nil {
		return out, err
	}
	origin := originOf(in)
	var number string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkRefs(ctx, tx, in.ServiceID, 0, in.CIID, 0); err != nil {
			return err
		}
		r, err := s.records.CreateIn(ctx, tx, ProblemType, record.NewRecord{Title: in.Title, Description: in.Description,
			Priority: Priority(in.Impact, in.Urgency), ServiceID: in.ServiceID, Marking: in.Marking,
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				changes := audit.Diff(detailAudited, map[string]any{}, detailFields(in.Details))
				changes = append(changes, audit.Change{Field: "origin", New: string(origin)})
				if in.Trend != nil {
					changes = append(changes, audit.Change{Field: "trend", New: *in.Trend})
				}
				if len(numbers) > 0 {
					changes = append(changes, audit.Change{Field: "incidents", New: numbers})
				}
				return changes, insertProblem(ctx, tx, r.ID, in.Details, origin, in.Trend)
			}})
		if err != nil {
			return err
		}
		number = r.Number
		for i, n := range numbers {
			if err := s.linkIncident(ctx, tx, r.Number, fmt.Sprintf("body.incidents[%d]", i), n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.Problem(ctx, number)
}

// linkIncident links an incident to a problem that causes it, in tx. An
// unknown or invisible record, one that is no incident, or one already
// linked is refused, naming loc.
func (s *Service) linkIncident(ctx context.Context, tx *db.Tx, problem, loc, incident string) error {
	l, err := s.records.LinkIn(ctx, tx, problem, record.Causes, incident)
	if e, ok := errs.As(err); ok {
		switch e.Kind {
		case errs.Invalid, errs.NotFound:
			return errs.Field(loc, "no such incident", incident)
		case errs.Conflict:
			return &errs.Error{Kind: errs.Conflict, Message: fmt.Sprintf("%s is already linked to %s", incident, problem),
				Fields: []errs.FieldError{{Location: loc, Message: "already linked to " + problem, Value: incident}}}
		}
	}
	if err != nil {
		return err
	}
	t, err := s.records.Type(l.RecordType)
	if err != nil || t.Process != IncidentProcess {
		return errs.Field(loc, fmt.Sprintf("%s is a %s, not an incident", incident, strings.ReplaceAll(l.RecordType, "_", " ")), incident)
	}
	return nil
}

// LinkIncidents links more incidents to a problem that causes them, all in one
// transaction (PM2: the caller needs R or A for it). A problem closed or
// cancelled takes none; the incidents are refused as Create refuses them,
// naming body.incidents[i].
func (s *Service) LinkIncidents(ctx context.Context, number string, incidents []string) (out ProblemDetail, err error) {
	defer errs.Wrap(&err, "link incidents to %s", number)
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	if len(incidents) == 0 {
		return out, errs.Field("body.incidents", "name at least one incident", nil)
	}
	numbers, err := normalizeNumbers("body.incidents", incidents)
	if err != nil {
		return out, err
	}
	if r.Closed {
		return out, errs.E(errs.Conflict, "%s is %s; reopen it before linking incidents", r.Number, r.State)
	}
	if err := s.authorize(ctx, r, ActLog, "link incidents to"); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for i, n := range numbers {
			if err := s.linkIncident(ctx, tx, r.Number, fmt.Sprintf("body.incidents[%d]", i), n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.Problem(ctx, r.Number)
}

// Update changes a problem's title, description, marking and its
// categorisation and prioritisation (PM3): category, subcategory, impact and
// urgency (the priority follows), the major flag, service and CI. Every
// changed field is audited with its old and new value. A closed or cancelled
// problem is not changed.
func (s *Service) Update(ctx context.Context, number string, version int64, c ProblemChange) (out ProblemDetail, err error) {
	defer errs.Wrap(&err, "update problem %s", number)
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	old, err := loadProblem(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	if version == 0 {
		version = r.Version
	}
	if c.Category != nil {
		*c.Category = strings.TrimSpace(*c.Category)
	}
	if c.Subcategory != nil {
		*c.Subcategory = strings.TrimSpace(*c.Subcategory)
	}
	n := c.apply(old.Details)
	if err := validateDetails(n); err != nil {
		return out, err
	}
	if c.ServiceID != nil && *c.ServiceID < 0 {
		return out, errs.Field("body.service", "a service id", *c.ServiceID)
	}
	if n.Category != old.Category || n.Subcategory != old.Subcategory {
		if err := s.checkCategory(ctx, "body.", n.Category, n.Subcategory); err != nil {
			return out, err
		}
	}
	prio := Priority(n.Impact, n.Urgency)
	_, err = s.records.Amend(ctx, r.Number, record.Amendment{Version: version,
		Fields: record.Update{Title: c.Title, Description: c.Description, Marking: c.Marking, ServiceID: c.ServiceID, Priority: &prio},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			// The version check makes old the row as it is now.
			svc := cur.ServiceID
			if c.ServiceID != nil {
				svc = *c.ServiceID
			}
			if err := checkRefs(ctx, tx, svc, cur.ServiceID, n.CIID, old.CIID); err != nil {
				return nil, err
			}
			changes := audit.Diff(detailAudited, detailFields(old.Details), detailFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, updateDetails(ctx, tx, cur.ID, n)
		}})
	if err != nil {
		return out, err
	}
	return s.Problem(ctx, r.Number)
}

// Problem returns a problem by its number with its linked incidents, its
// root-cause analyses and its known errors.
func (s *Service) Problem(ctx context.Context, number string) (out ProblemDetail, err error) {
	defer errs.Wrap(&err, "read problem %s", number)
	r, err := s.get(ctx, ProblemType, number)
	if err != nil {
		return out, err
	}
	if out.Problem, err = loadProblem(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	if out.RCAs, err = loadRCAs(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	if out.KnownErrors, err = knownErrorsOf(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	linked, err := loadLinked(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	out.Incidents = []LinkedIncident{}
	visible := s.visibility(ctx)
	for _, l := range linked {
		if visible(&l.Record) {
			out.Incidents = append(out.Incidents, LinkedIncident{Number: l.Number, Title: l.Title, State: l.State,
				LinkID: l.LinkID, LinkedAt: db.Time(l.LinkedAt)})
		}
	}
	return out, nil
}

// visibility returns a test of whether the caller may see a record, asking
// each record type's visibility hook (a security incident's, say) without
// reading the record again.
func (s *Service) visibility(ctx context.Context) func(r *record.Record) bool {
	p := auth.PrincipalFrom(ctx)
	hooks := map[string]record.Visibility{}
	return func(r *record.Record) bool {
		h, ok := hooks[r.Type]
		if !ok {
			t, err := s.records.Type(r.Type)
			if err != nil {
				return false
			}
			h = t.Visible
			hooks[r.Type] = h
		}
		return h == nil || h(ctx, p, r)
	}
}

// stateNames lists the state names of a registered type.
func (s *Service) stateNames(typeName string) ([]string, error) {
	t, err := s.records.Type(typeName)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(t.States))
	for i, st := range t.States {
		names[i] = st.Name
	}
	return names, nil
}

// List pages the problems matching f, newest first unless p sorts otherwise,
// and counts them all: one count and one page query, whatever the page size.
func (s *Service) List(ctx context.Context, f ListFilter, p listing.Params) (page listing.Page[Problem], total int64, err error) {
	defer errs.Wrap(&err, "list problems")
	page.Items = []Problem{}
	var fe fieldErrs
	if f.State != "" {
		names, err := s.stateNames(ProblemType)
		if err != nil {
			return page, 0, err
		}
		if !slices.Contains(names, f.State) {
			fe.add("query.state", "one of "+strings.Join(names, ", "), f.State)
		}
	}
	fe.checkKeys("query.", f.Category, f.Subcategory)
	if f.ServiceID < 0 {
		fe.add("query.service", "a service id", f.ServiceID)
	}
	if f.CIID < 0 {
		fe.add("query.ci", "a CI id", f.CIID)
	}
	fe.text("query.q", f.Q, 200)
	if err := fe.err(); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	add := func(field string, v any) { lf = append(lf, listing.Filter{Field: field, Value: v}) }
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
	if f.Major != nil {
		add("major", *f.Major)
	}
	if f.Open != nil {
		add("closed", !*f.Open)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + escapeLike(strings.ToLower(q)) + "%"
		lf = append(lf, listing.Filter{Where: `r.number = ? OR LOWER(r.title) LIKE ? ESCAPE '\' OR LOWER(r.description) LIKE ? ESCAPE '\'`,
			Args: []any{record.NormalizeNumber(q), like, like}})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, problemSource, p, lf)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
