package cmdb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// Baselines (CfM3, CfM4) are named snapshots of a set of CIs and the relations
// among them, a known state to compare against or to restore after a failed
// change. They are evidence, like the audit trail: there is no way to change
// or delete one. A baseline that is no longer wanted is simply not used.

// BaselineScope says which CIs a baseline holds. CIs and ServiceID name
// members: the listed CIs, and the service with everything it depends on
// (upstream). Without either, every CI is a candidate. Class (with its
// subclasses) and Status narrow the members. Disposed CIs are never members.
type BaselineScope struct {
	Class     string  `json:"class,omitempty" maxLength:"63" doc:"Only CIs of this class and its subclasses."`
	Status    Status  `json:"status,omitempty" enum:"planned,ordered,build,test,operational,maintenance,retired" doc:"Only CIs in this status."`
	CIs       []int64 `json:"cis,omitempty" maxItems:"100000" doc:"These CIs."`
	ServiceID int64   `json:"serviceId,omitempty" doc:"This service and every CI it depends on."`
}

// MaxBaselineCIs is the most CIs a scope may list explicitly.
const MaxBaselineCIs = 100_000

// NewBaseline is what a baseline is taken from.
type NewBaseline struct {
	Name        string
	Description string
	Scope       BaselineScope
}

// Baseline is a snapshot taken at a moment.
type Baseline struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Scope       BaselineScope `json:"scope"`
	TakenAt     time.Time     `json:"takenAt"`
	TakenBy     int64         `json:"takenBy,omitempty"`
	CICount     int64         `json:"ciCount"`
	// RelationCount counts the relations among the baseline's CIs.
	RelationCount int64 `json:"relationCount"`
}

// BaselineItem is one CI as a baseline recorded it.
type BaselineItem struct {
	CIID    int64  `json:"ciId"`
	Version int64  `json:"version"`
	Class   string `json:"class"`
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Attrs   Attrs  `json:"attributes"`
}

func baselineObject(id int64) string { return "ci-baseline/" + strconv.FormatInt(id, 10) }

// check validates and normalises a scope.
func (sc *BaselineScope) check(ctx context.Context, s *Service, cat *catalog, field string) error {
	var fe []errs.FieldError
	if sc.Class != "" {
		if _, ok := cat.byName[sc.Class]; !ok {
			fe = append(fe, errs.FieldError{Location: field + ".class", Message: "unknown CI class " + sc.Class, Value: sc.Class})
		}
	}
	if sc.Status != "" && (!slices.Contains(Statuses, sc.Status) || sc.Status == StatusDisposed) {
		fe = append(fe, errs.FieldError{Location: field + ".status", Message: "a status of the lifecycle other than disposed", Value: sc.Status})
	}
	if len(sc.CIs) > MaxBaselineCIs {
		fe = append(fe, errs.FieldError{Location: field + ".cis", Message: fmt.Sprintf("at most %d CIs; use a class instead", MaxBaselineCIs)})
	}
	if err := errs.WithFields(fe); err != nil {
		return err
	}
	sc.CIs = slices.Clone(sc.CIs)
	slices.Sort(sc.CIs)
	sc.CIs = slices.Compact(sc.CIs)
	ids := sc.CIs
	if sc.ServiceID != 0 {
		ids = append(slices.Clone(ids), sc.ServiceID)
	}
	known, err := classesOf(ctx, s.db, ids)
	if err != nil {
		return err
	}
	for _, id := range sc.CIs {
		if _, ok := known[id]; !ok {
			fe = append(fe, errs.FieldError{Location: field + ".cis", Message: fmt.Sprintf("no CI with id %d", id), Value: id})
		}
	}
	if sc.ServiceID != 0 {
		svc := cat.byName["service"]
		if cl, ok := known[sc.ServiceID]; !ok || svc == nil || !cat.isA(cl, svc.ID) {
			fe = append(fe, errs.FieldError{Location: field + ".serviceId", Message: fmt.Sprintf("no service with id %d", sc.ServiceID), Value: sc.ServiceID})
		}
	}
	return errs.WithFields(fe)
}

// where is the scope's class and status condition over cis aliased c.
func (sc BaselineScope) where(cat *catalog) (string, []any) {
	w := "c.status <> 'disposed'"
	var args []any
	if cl, ok := cat.byName[sc.Class]; ok {
		ids := cat.subtree(cl.ID)
		w += " AND c.class_id IN (" + inList(len(ids)) + ")"
		args = append(args, int64Args(ids)...)
	}
	if sc.Status != "" {
		w += " AND c.status = ?"
		args = append(args, string(sc.Status))
	}
	return w, args
}

// members lists the CIs the scope names explicitly (its CIs and the service's
// upstream closure, as of now), or nil with all false when it names none.
func (s *Service) members(ctx context.Context, sc BaselineScope, field string) ([]int64, bool, error) {
	if len(sc.CIs) == 0 && sc.ServiceID == 0 {
		return nil, false, nil
	}
	ids := slices.Clone(sc.CIs)
	if sc.ServiceID != 0 {
		imp, err := s.Analyze(ctx, ImpactQuery{CIs: []int64{sc.ServiceID}, Direction: Upstream})
		if err != nil {
			return nil, true, err
		}
		if imp.Truncated {
			return nil, true, errs.Field(field+".serviceId", fmt.Sprintf("the service rests on more than %d CIs; baseline it by class", MaxImpactNodes), sc.ServiceID)
		}
		ids = append(ids, sc.ServiceID)
		for _, n := range imp.Nodes {
			ids = append(ids, n.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), true, nil
}

// CreateBaseline takes a baseline (CfM3): it copies the CIs of the scope as
// they are now, and the current relations among them, in a few INSERT …
// SELECT statements, so that a baseline of 100,000 CIs takes seconds.
func (s *Service) CreateBaseline(ctx context.Context, in NewBaseline) (out Baseline, err error) {
	defer errs.Wrap(&err, "take baseline")
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	in.Name = strings.TrimSpace(in.Name)
	var fe []errs.FieldError
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 200 {
		fe = append(fe, errs.FieldError{Location: "body.name", Message: "a name has 1 to 200 characters"})
	}
	if utf8.RuneCountInString(in.Description) > 4000 {
		fe = append(fe, errs.FieldError{Location: "body.description", Message: "at most 4000 characters"})
	}
	if err := errs.WithFields(fe); err != nil {
		return out, err
	}
	if err := in.Scope.check(ctx, s, cat, "body.scope"); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActControl, "take a baseline of", "cmdb", raci.Scope{ServiceID: in.Scope.ServiceID}); err != nil {
		return out, err
	}
	ids, explicit, err := s.members(ctx, in.Scope, "body.scope")
	if err != nil {
		return out, err
	}
	scope, _ := json.Marshal(in.Scope)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var taken int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM ci_baselines WHERE name = ?`, in.Name).Scan(&taken)
		if err == nil {
			return errs.E(errs.Conflict, "baseline %d is already named %q", taken, in.Name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := s.now()
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO ci_baselines (name, description, scope, taken_at, taken_by) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			in.Name, in.Description, string(scope), now, actor(ctx)).Scan(&id); err != nil {
			return fmt.Errorf("insert baseline: %w", err)
		}
		where, args := in.Scope.where(cat)
		copyItems := `INSERT INTO ci_baseline_items (baseline_id, ci_id, version, class_id, name, status, attrs)
			SELECT ?, c.id, c.version, c.class_id, c.name, c.status, c.attrs FROM cis c WHERE ` + where
		if !explicit {
			if _, err := tx.ExecContext(ctx, copyItems, append([]any{id}, args...)...); err != nil {
				return fmt.Errorf("copy CIs: %w", err)
			}
		}
		for start := 0; explicit && start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			a := append(append([]any{id}, args...), int64Args(chunk)...)
			if _, err := tx.ExecContext(ctx, copyItems+` AND c.id IN (`+inList(len(chunk))+`)`, a...); err != nil {
				return fmt.Errorf("copy CIs: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ci_baseline_relations (baseline_id, source_id, type_id, target_id)
			SELECT ?, r.source_id, r.type_id, r.target_id FROM ci_relations r
			WHERE r.source_id IN (SELECT ci_id FROM ci_baseline_items WHERE baseline_id = ?)
			AND r.target_id IN (SELECT ci_id FROM ci_baseline_items WHERE baseline_id = ?)`, id, id, id); err != nil {
			return fmt.Errorf("copy relations: %w", err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ci_baseline_items WHERE baseline_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Field("body.scope", "the scope holds no CI", nil)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ci_baselines SET ci_count = ? WHERE id = ?`, n, id); err != nil {
			return err
		}
		if out, err = getBaseline(ctx, tx, id); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci.baseline", ObjectType: "ci_baseline", ObjectID: baselineObject(id),
			Changes: []audit.Change{{Field: "name", New: out.Name}, {Field: "scope", New: out.Scope}, {Field: "ciCount", New: out.CICount},
				{Field: "relationCount", New: out.RelationCount}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.baseline.created", Subject: baselineObject(id), Data: out})
	})
	return out, err
}

const baselineColumns = `b.id, b.name, b.description, b.scope, b.taken_at, COALESCE(b.taken_by, 0), b.ci_count,
	(SELECT COUNT(*) FROM ci_baseline_relations r WHERE r.baseline_id = b.id)`

func scanBaseline(r listing.Scanner) (Baseline, error) {
	var b Baseline
	var scope string
	var taken int64
	if err := r.Scan(&b.ID, &b.Name, &b.Description, &scope, &taken, &b.TakenBy, &b.CICount, &b.RelationCount); err != nil {
		return b, err
	}
	b.TakenAt = ms(taken)
	if err := json.Unmarshal([]byte(scope), &b.Scope); err != nil {
		return b, fmt.Errorf("baseline %d scope: %w", b.ID, err)
	}
	return b, nil
}

func getBaseline(ctx context.Context, q db.Queryer, id int64) (Baseline, error) {
	b, err := scanBaseline(q.QueryRowContext(ctx, `SELECT `+baselineColumns+` FROM ci_baselines b WHERE b.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, errs.E(errs.NotFound, "no baseline with id %d", id)
	}
	if err != nil {
		return b, fmt.Errorf("read baseline %d: %w", id, err)
	}
	return b, nil
}

// Baseline reads a baseline.
func (s *Service) Baseline(ctx context.Context, id int64) (Baseline, error) {
	return getBaseline(ctx, s.db, id)
}

var baselineSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":      {SQL: "b.id", Sortable: true, Kind: "int"},
		"name":    {SQL: "b.name", Sortable: true, Kind: "text"},
		"takenAt": {SQL: "b.taken_at", Sortable: true, Kind: "int"},
	},
	Fields:      []string{"id", "name", "description", "scope", "takenAt", "takenBy", "ciCount", "relationCount"},
	DefaultSort: "-id",
	IDColumn:    "b.id",
}

// Baselines lists baselines, newest first by default; name keeps those whose name starts with it.
func (s *Service) Baselines(ctx context.Context, name string, p listing.Params) (listing.Page[Baseline], int64, error) {
	var fs []listing.Filter
	if name != "" {
		fs = append(fs, listing.Filter{Field: "name", Value: name, Prefix: true})
	}
	src := listing.Source[Baseline]{Spec: baselineSpec, From: "ci_baselines b", Columns: baselineColumns, Scan: scanBaseline,
		Key: func(b Baseline, field string) any {
			switch field {
			case "name":
				return b.Name
			case "takenAt":
				return b.TakenAt.UnixMilli()
			}
			return b.ID
		},
		ID: func(b Baseline) int64 { return b.ID }}
	return listing.Fetch(ctx, s.db, src, p, fs)
}

var baselineItemSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"ciId": {SQL: "i.ci_id", Sortable: true, Kind: "int"},
		"name": {SQL: "i.name", Sortable: true, Kind: "text"},
	},
	Fields:      []string{"ciId", "version", "class", "name", "status", "attributes"},
	DefaultSort: "ciId",
	IDColumn:    "i.ci_id",
}

// BaselineItems lists the CIs of a baseline as it recorded them.
func (s *Service) BaselineItems(ctx context.Context, id int64, p listing.Params) (listing.Page[BaselineItem], int64, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return listing.Page[BaselineItem]{}, 0, err
	}
	if _, err := getBaseline(ctx, s.db, id); err != nil {
		return listing.Page[BaselineItem]{}, 0, err
	}
	src := listing.Source[BaselineItem]{Spec: baselineItemSpec, From: "ci_baseline_items i",
		Columns: "i.ci_id, i.version, i.class_id, i.name, i.status, i.attrs",
		Scan: func(r listing.Scanner) (BaselineItem, error) {
			var it BaselineItem
			var class int64
			var attrs string
			if err := r.Scan(&it.CIID, &it.Version, &class, &it.Name, &it.Status, &attrs); err != nil {
				return it, err
			}
			if cl, ok := cat.classes[class]; ok {
				it.Class = cl.Name
			}
			return it, decodeAttrs(attrs, &it.Attrs)
		},
		Key: func(it BaselineItem, field string) any {
			if field == "name" {
				return it.Name
			}
			return it.CIID
		},
		ID: func(it BaselineItem) int64 { return it.CIID }}
	return listing.Fetch(ctx, s.db, src, p, []listing.Filter{{Where: "i.baseline_id = ?", Args: []any{id}}})
}

// ---- comparison ----

// BaselineRef names a baseline briefly.
type BaselineRef struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	TakenAt time.Time `json:"takenAt"`
}

// CIDiff is a CI present on both sides whose fields differ.
type CIDiff struct {
	CIRef
	Changes []audit.Change `json:"changes"`
}

// RelationEnds is a relation in a comparison.
type RelationEnds struct {
	SourceID   int64  `json:"sourceId"`
	SourceName string `json:"sourceName"`
	Type       string `json:"type"`
	TargetID   int64  `json:"targetId"`
	TargetName string `json:"targetName"`
}

// ComparisonSummary counts the differences, however many are listed.
type ComparisonSummary struct {
	Added            int `json:"added"`
	Removed          int `json:"removed"`
	Changed          int `json:"changed"`
	Unchanged        int `json:"unchanged"`
	RelationsAdded   int `json:"relationsAdded"`
	RelationsRemoved int `json:"relationsRemoved"`
}

// MaxComparisonEntries is the most entries each list of a comparison holds.
const MaxComparisonEntries = 10_000

// Comparison is what differs between a baseline and now, or another baseline.
// Lists are ordered by CI id (relations by source, type, target) and hold at
// most MaxComparisonEntries each; Summary counts them all.
type Comparison struct {
	Baseline BaselineRef `json:"baseline"`
	// Against is the other baseline; absent when compared with now.
	Against *BaselineRef `json:"against,omitempty"`
	// At is the moment of the comparison with now.
	At time.Time `json:"at,omitzero"`
	// SameScope is false when the other baseline was taken of another scope,
	// so that added and removed CIs say more about the scopes than the CIs.
	SameScope bool              `json:"sameScope"`
	Summary   ComparisonSummary `json:"summary"`
	// Added are CIs in the scope now (or in the other baseline) but not in the baseline.
	Added []CIRef `json:"added"`
	// Removed are CIs of the baseline gone from the scope, or disposed.
	Removed []CIRef `json:"removed"`
	// Changed are CIs on both sides whose name, status or attributes differ.
	Changed          []CIDiff       `json:"changed"`
	RelationsAdded   []RelationEnds `json:"relationsAdded"`
	RelationsRemoved []RelationEnds `json:"relationsRemoved"`
	Truncated        bool           `json:"truncated"`
}

// snap is a CI on one side of a comparison; attrs stay encoded until needed.
type snap struct {
	version, class int64
	name, status   string
	attrs          string
}

type relKey struct{ src, typ, dst int64 }

func (sn snap) ci(cat *catalog, id int64) (CI, error) {
	c := CI{ID: id, ClassID: sn.class, Name: sn.name, Status: Status(sn.status), Version: sn.version}
	if cl, ok := cat.classes[sn.class]; ok {
		c.Class = cl.Name
	}
	return c, decodeAttrs(sn.attrs, &c.Attrs)
}

// CompareBaseline compares a baseline with now (against 0), re-evaluating its
// scope, or with another baseline.
func (s *Service) CompareBaseline(ctx context.Context, id, against int64) (out Comparison, err error) {
	defer errs.Wrap(&err, "compare baseline %d", id)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	base, err := getBaseline(ctx, s.db, id)
	if err != nil {
		return out, err
	}
	out.Baseline = BaselineRef{ID: base.ID, Name: base.Name, TakenAt: base.TakenAt}
	left, err := s.baselineSnaps(ctx, id)
	if err != nil {
		return out, err
	}
	leftRels, err := s.baselineRelations(ctx, id)
	if err != nil {
		return out, err
	}
	var right map[int64]snap
	var rightRels map[relKey]bool
	if against != 0 {
		other, err := getBaseline(ctx, s.db, against)
		if err != nil {
			return out, errs.Field("query.against", fmt.Sprintf("no baseline with id %d", against), against)
		}
		out.Against = &BaselineRef{ID: other.ID, Name: other.Name, TakenAt: other.TakenAt}
		a, _ := json.Marshal(base.Scope)
		b, _ := json.Marshal(other.Scope)
		out.SameScope = string(a) == string(b)
		if right, err = s.baselineSnaps(ctx, against); err != nil {
			return out, err
		}
		if rightRels, err = s.baselineRelations(ctx, against); err != nil {
			return out, err
		}
	} else {
		out.At, out.SameScope = s.clock.Now().UTC(), true
		if right, err = s.scopeSnaps(ctx, cat, base.Scope); err != nil {
			return out, err
		}
		if rightRels, err = currentRelations(ctx, s.db, right); err != nil {
			return out, err
		}
	}
	out.Added, out.Removed, out.Changed = []CIRef{}, []CIRef{}, []CIDiff{}
	ref := func(cid int64, sn snap) CIRef {
		r := CIRef{ID: cid, Name: sn.name, Status: Status(sn.status)}
		if cl, ok := cat.classes[sn.class]; ok {
			r.Class = cl.Name
		}
		return r
	}
	ids := make([]int64, 0, len(left)+len(right))
	for cid := range left {
		ids = append(ids, cid)
	}
	for cid := range right {
		if _, ok := left[cid]; !ok {
			ids = append(ids, cid)
		}
	}
	slices.Sort(ids)
	var removed []int64
	for _, cid := range ids {
		l, inL := left[cid]
		r, inR := right[cid]
		switch {
		case !inR:
			out.Summary.Removed++
			removed = append(removed, cid)
			if len(out.Removed) < MaxComparisonEntries {
				out.Removed = append(out.Removed, ref(cid, l))
			}
		case !inL:
			out.Summary.Added++
			if len(out.Added) < MaxComparisonEntries {
				out.Added = append(out.Added, ref(cid, r))
			}
		case l.version == r.version:
			out.Summary.Unchanged++
		default:
			lc, err := l.ci(cat, cid)
			if err != nil {
				return out, err
			}
			rc, err := r.ci(cat, cid)
			if err != nil {
				return out, err
			}
			changes := ciChanges(lc, rc)
			if len(changes) == 0 {
				out.Summary.Unchanged++
				continue
			}
			out.Summary.Changed++
			if len(out.Changed) < MaxComparisonEntries {
				out.Changed = append(out.Changed, CIDiff{CIRef: ref(cid, r), Changes: changes})
			}
		}
	}
	if against == 0 && len(out.Removed) > 0 {
		// Show what became of removed CIs: disposed, retired out of a status scope…
		now, err := refsOf(ctx, s.db, cat, removed[:len(out.Removed)])
		if err != nil {
			return out, err
		}
		for i, r := range out.Removed {
			if n, ok := now[r.ID]; ok {
				out.Removed[i].Status = n.Status
			}
		}
	}
	name := func(cid int64) string {
		if sn, ok := right[cid]; ok {
			return sn.name
		}
		return left[cid].name
	}
	diffRels := func(a, b map[relKey]bool) ([]RelationEnds, int) {
		var keys []relKey
		for k := range a {
			if !b[k] {
				keys = append(keys, k)
			}
		}
		relName := func(t int64) string {
			if rt, ok := cat.relTypes[t]; ok {
				return rt.Name
			}
			return strconv.FormatInt(t, 10)
		}
		slices.SortFunc(keys, func(x, y relKey) int {
			return cmp.Or(cmp.Compare(x.src, y.src), cmp.Compare(relName(x.typ), relName(y.typ)), cmp.Compare(x.dst, y.dst))
		})
		list := make([]RelationEnds, 0, min(len(keys), MaxComparisonEntries))
		for _, k := range keys[:min(len(keys), MaxComparisonEntries)] {
			list = append(list, RelationEnds{SourceID: k.src, SourceName: name(k.src), Type: relName(k.typ), TargetID: k.dst, TargetName: name(k.dst)})
		}
		return list, len(keys)
	}
	out.RelationsAdded, out.Summary.RelationsAdded = diffRels(rightRels, leftRels)
	out.RelationsRemoved, out.Summary.RelationsRemoved = diffRels(leftRels, rightRels)
	sm := out.Summary
	out.Truncated = max(sm.Added, sm.Removed, sm.Changed, sm.RelationsAdded, sm.RelationsRemoved) > MaxComparisonEntries
	return out, nil
}

// baselineSnaps reads a baseline's CIs, 5,000 at a time.
func (s *Service) baselineSnaps(ctx context.Context, id int64) (map[int64]snap, error) {
	out := map[int64]snap{}
	after := int64(0)
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT ci_id, version, class_id, name, status, attrs FROM ci_baseline_items
			WHERE baseline_id = ? AND ci_id > ? ORDER BY ci_id LIMIT 5000`, id, after)
		if err != nil {
			return nil, fmt.Errorf("read baseline %d: %w", id, err)
		}
		n := 0
		for rows.Next() {
			var sn snap
			if err := rows.Scan(&after, &sn.version, &sn.class, &sn.name, &sn.status, &sn.attrs); err != nil {
				rows.Close()
				return nil, err
			}
			out[after] = sn
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if n < 5000 {
			return out, nil
		}
	}
}

func (s *Service) baselineRelations(ctx context.Context, id int64) (map[relKey]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source_id, type_id, target_id FROM ci_baseline_relations WHERE baseline_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("read baseline %d relations: %w", id, err)
	}
	defer rows.Close()
	out := map[relKey]bool{}
	for rows.Next() {
		var k relKey
		if err := rows.Scan(&k.src, &k.typ, &k.dst); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// scopeSnaps evaluates a scope now and reads its CIs.
func (s *Service) scopeSnaps(ctx context.Context, cat *catalog, sc BaselineScope) (map[int64]snap, error) {
	ids, explicit, err := s.members(ctx, sc, "scope")
	if err != nil {
		return nil, err
	}
	where, args := sc.where(cat)
	out := map[int64]snap{}
	read := func(q string, a []any) (int, int64, error) {
		rows, err := s.db.QueryContext(ctx, q, a...)
		if err != nil {
			return 0, 0, fmt.Errorf("read the scope's CIs: %w", err)
		}
		defer rows.Close()
		n, last := 0, int64(0)
		for rows.Next() {
			var sn snap
			if err := rows.Scan(&last, &sn.version, &sn.class, &sn.name, &sn.status, &sn.attrs); err != nil {
				return 0, 0, err
			}
			out[last] = sn
			n++
		}
		return n, last, rows.Err()
	}
	sel := `SELECT c.id, c.version, c.class_id, c.name, c.status, c.attrs FROM cis c WHERE ` + where
	if explicit {
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			if _, _, err := read(sel+` AND c.id IN (`+inList(len(chunk))+`)`, append(slices.Clone(args), int64Args(chunk)...)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	after := int64(0)
	for {
		n, last, err := read(sel+` AND c.id > ? ORDER BY c.id LIMIT 5000`, append(slices.Clone(args), after))
		if err != nil {
			return nil, err
		}
		if n < 5000 {
			return out, nil
		}
		after = last
	}
}

// currentRelations reads the current relations among a set of CIs.
func currentRelations(ctx context.Context, q db.Queryer, set map[int64]snap) (map[relKey]bool, error) {
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := map[relKey]bool{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT source_id, type_id, target_id FROM ci_relations WHERE source_id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("read relations: %w", err)
		}
		for rows.Next() {
			var k relKey
			if err := rows.Scan(&k.src, &k.typ, &k.dst); err != nil {
				rows.Close()
				return nil, err
			}
			if _, ok := set[k.dst]; ok {
				out[k] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
