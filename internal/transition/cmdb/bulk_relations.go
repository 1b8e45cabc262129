package cmdb

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/transition/cmdb/reconcile"
)

// The columns of a relation file. Each end is named by its id, or by its
// exact name, with its class (and subclasses) when the name alone is not unique.
var relationFileColumns = []string{"source_id", "source_class", "source_name", "type", "target_id", "target_class", "target_name"}

// RelationImportOptions says what relations to import.
type RelationImportOptions struct {
	Format     reconcile.Format
	Source     io.Reader
	SourceName string
	DryRun     bool
	// ChangeRef names the approved change covering the new relations; see ImportOptions.
	ChangeRef string
}

// RelationImportReport is the outcome of a relation import or its dry run.
type RelationImportReport struct {
	Source string `json:"source,omitempty"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	// Created counts new relations; Unchanged those that exist already (or repeat a row).
	Created    int        `json:"created"`
	Unchanged  int        `json:"unchanged"`
	DryRun     bool       `json:"dryRun"`
	Applied    bool       `json:"applied"`
	ErrorCount int        `json:"errorCount"`
	Errors     []RowError `json:"errors"`
}

// relEnd is one end of a relation row.
type relEnd struct {
	id    int64
	class *Class
	name  string
}

type relRow struct {
	line     int
	src, dst relEnd
	typ      *RelationType
	bad      bool
	exists   bool
}

// ImportRelations relates CIs from a CSV or JSON file (CfM3). A relation
// that exists already is unchanged; an unknown type, an unknown or ambiguous
// end, or a CI related to itself is the row's error, and any error leaves
// the database untouched.
func (s *Service) ImportRelations(ctx context.Context, opt RelationImportOptions) (rep RelationImportReport, err error) {
	defer errs.Wrap(&err, "import relations")
	rep = RelationImportReport{Source: opt.SourceName, DryRun: opt.DryRun, Errors: []RowError{}}
	cat, err := s.catalog(ctx)
	if err != nil {
		return rep, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActControl, "import relations into", "cmdb", raci.Scope{}); err != nil {
		return rep, err
	}
	file, err := readFile(opt.Source, opt.Format, "format")
	if err != nil {
		return rep, err
	}
	rep.SHA256, rep.Rows = file.sha, len(file.table.Rows)
	if err := unknownColumns(file.table.Columns, func(c string) bool { return slices.Contains(relationFileColumns, c) },
		"the columns are "+strings.Join(relationFileColumns, ", ")); err != nil {
		return rep, err
	}
	var bad rowErrors
	isCSV := opt.Format == reconcile.FormatCSV
	rows := make([]relRow, len(file.table.Rows))
	for i, tr := range file.table.Rows {
		r := &rows[i]
		r.line = file.line(tr)
		get := func(col string) string {
			v := tr.Fields[col]
			if isCSV {
				v = defused(v)
			}
			return strings.TrimSpace(v)
		}
		fail := func(field, msg string) {
			bad.add(r.line, field, msg)
			r.bad = true
		}
		if t := get("type"); t == "" {
			fail("type", "name the relation type")
		} else if r.typ = cat.relByName[t]; r.typ == nil {
			_, err := cat.relType("type", t)
			e, _ := errs.As(err)
			fail("type", e.Fields[0].Message)
		}
		for _, end := range []struct {
			prefix string
			into   *relEnd
		}{{"source", &r.src}, {"target", &r.dst}} {
			if v := get(end.prefix + "_id"); v != "" {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil || id < 1 {
					fail(end.prefix+"_id", "expected the id of a CI")
				}
				end.into.id = id
			}
			if v := get(end.prefix + "_class"); v != "" {
				if end.into.class = cat.byName[v]; end.into.class == nil {
					fail(end.prefix+"_class", "unknown CI class "+v)
				}
			}
			end.into.name = get(end.prefix + "_name")
			if end.into.id == 0 && end.into.name == "" {
				fail(end.prefix+"_id", "name the "+end.prefix+" CI by "+end.prefix+"_id, or by "+end.prefix+"_name (and "+end.prefix+"_class)")
			}
		}
	}
	file.table.Rows = nil
	if err := s.resolveEnds(ctx, cat, rows, &bad); err != nil {
		return rep, err
	}
	if err := s.markExisting(ctx, rows); err != nil {
		return rep, err
	}
	seen := map[relKey]bool{}
	var news []relKey
	for i := range rows {
		r := &rows[i]
		if r.bad {
			continue
		}
		k := relKey{r.src.id, r.typ.ID, r.dst.id}
		if r.exists || seen[k] {
			rep.Unchanged++
			continue
		}
		seen[k] = true
		news = append(news, k)
	}
	rep.Created = len(news)
	rep.ErrorCount, rep.Errors = bad.n, bad.sorted()
	if err := bad.asError("imported"); err != nil {
		rep.Created, rep.Unchanged = 0, 0
		return rep, err
	}
	if opt.DryRun {
		return rep, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now, by := s.now(), actor(ctx)
		if err := bulkWrite(ctx, tx, "ci_relations", []string{"source_id", "type_id", "target_id"}, []string{"created_at", "created_by"},
			[]any{now, by}, len(news), func(i int, w *rowWriter) {
				w.Int(news[i].src)
				w.Int(news[i].typ)
				w.Int(news[i].dst)
			}); err != nil {
			if errs.Is(err, errs.Conflict) {
				return errs.E(errs.Conflict, "a relation in the file was just added by someone else; import again")
			}
			return err
		}
		// One unauthorised-change flag per source CI, naming its new relations.
		added := map[int64][]string{}
		var srcs []int64
		for _, k := range news {
			if added[k.src] == nil {
				srcs = append(srcs, k.src)
			}
			added[k.src] = append(added[k.src], fmt.Sprintf("%s CI %d", cat.relTypes[k.typ].Name, k.dst))
		}
		versions, err := ciVersions(ctx, tx, srcs)
		if err != nil {
			return err
		}
		for _, src := range srcs {
			if err := s.flagUnauthorised(ctx, tx, src, versions[src], "import: relations added: "+joinMax(added[src], 480), opt.ChangeRef); err != nil {
				return err
			}
		}
		summary := map[string]any{"source": opt.SourceName, "sha256": rep.SHA256, "rows": rep.Rows, "created": rep.Created,
			"unchanged": rep.Unchanged, "changeRef": opt.ChangeRef}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci.relations.import", ObjectType: "ci", ObjectID: "cmdb",
			Changes: audit.Diff(slices.Sorted(maps.Keys(summary)), map[string]any{}, summary)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.relations.imported", Subject: "cmdb", Data: summary})
	})
	if err != nil {
		return rep, err
	}
	rep.Applied = true
	return rep, nil
}

// ciVersions reads the current version of each CI.
func ciVersions(ctx context.Context, q db.Queryer, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT id, version FROM cis WHERE id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("read CI versions: %w", err)
		}
		for rows.Next() {
			var id, v int64
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolveEnds finds the CIs the rows name, by id or by name, in batches.
func (s *Service) resolveEnds(ctx context.Context, cat *catalog, rows []relRow, bad *rowErrors) error {
	var ids []int64
	var names []string
	seenName := map[string]bool{}
	for i := range rows {
		if rows[i].bad {
			continue
		}
		for _, e := range []relEnd{rows[i].src, rows[i].dst} {
			if e.id != 0 {
				ids = append(ids, e.id)
			} else if !seenName[e.name] {
				seenName[e.name] = true
				names = append(names, e.name)
			}
		}
	}
	slices.Sort(ids)
	byID, err := refsOf(ctx, s.db, cat, slices.Compact(ids))
	if err != nil {
		return err
	}
	byName, err := lookupValues(ctx, s.db, identField{name: "name"}, names)
	if err != nil {
		return err
	}
	var named []int64
	for _, v := range byName {
		named = append(named, v...)
	}
	classes, err := classesOf(ctx, s.db, named)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if r.bad {
			continue
		}
		for _, end := range []struct {
			prefix string
			e      *relEnd
		}{{"source", &r.src}, {"target", &r.dst}} {
			e := end.e
			if e.id != 0 {
				ref, ok := byID[e.id]
				switch {
				case !ok:
					bad.add(r.line, end.prefix+"_id", fmt.Sprintf("no CI with id %d", e.id))
				case e.class != nil && !cat.isA(cat.byName[ref.Class].ID, e.class.ID):
					bad.add(r.line, end.prefix+"_class", fmt.Sprintf("CI %d is a %s, not a %s", e.id, ref.Class, e.class.Name))
				case e.name != "" && ref.Name != e.name:
					bad.add(r.line, end.prefix+"_name", fmt.Sprintf("CI %d is named %q", e.id, ref.Name))
				default:
					continue
				}
				r.bad = true
				continue
			}
			var match []int64
			for _, id := range byName[e.name] {
				if e.class == nil || cat.isA(classes[id], e.class.ID) {
					match = append(match, id)
				}
			}
			slices.Sort(match)
			switch len(match) {
			case 1:
				e.id = match[0]
				continue
			case 0:
				what := fmt.Sprintf("no CI is named %q", e.name)
				if e.class != nil {
					what += " in class " + e.class.Name
				}
				bad.add(r.line, end.prefix+"_name", what)
			default:
				bad.add(r.line, end.prefix+"_name", fmt.Sprintf("CIs %s are all named %q; give %s_class or %s_id", joinIDs(match), e.name, end.prefix, end.prefix))
			}
			r.bad = true
		}
		if !r.bad && r.src.id == r.dst.id {
			bad.add(r.line, "target_id", "a CI cannot "+r.typ.Label+" itself")
			r.bad = true
		}
	}
	return nil
}

// markExisting marks the rows whose relation exists already.
func (s *Service) markExisting(ctx context.Context, rows []relRow) error {
	var srcs []int64
	for i := range rows {
		if !rows[i].bad {
			srcs = append(srcs, rows[i].src.id)
		}
	}
	slices.Sort(srcs)
	srcs = slices.Compact(srcs)
	have := map[relKey]bool{}
	for start := 0; start < len(srcs); start += 500 {
		chunk := srcs[start:min(start+500, len(srcs))]
		rs, err := s.db.QueryContext(ctx, `SELECT source_id, type_id, target_id FROM ci_relations WHERE source_id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return fmt.Errorf("read relations: %w", err)
		}
		for rs.Next() {
			var k relKey
			if err := rs.Scan(&k.src, &k.typ, &k.dst); err != nil {
				rs.Close()
				return err
			}
			have[k] = true
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
	}
	for i := range rows {
		if r := &rows[i]; !r.bad {
			r.exists = have[relKey{r.src.id, r.typ.ID, r.dst.id}]
		}
	}
	return nil
}
