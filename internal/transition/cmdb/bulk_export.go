package cmdb

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb/reconcile"
)

// ExportOptions says what to export and how.
type ExportOptions struct {
	Format reconcile.Format
	Filter CIFilter
	// Banner is the classification marking written on the export's first
	// line (and last, in CSV); empty means the highest marking among the
	// exported CIs.
	Banner string
}

// RelationExportOptions says which relations to export: those whose source
// CI matches Filter, of Type when given.
type RelationExportOptions struct {
	Format reconcile.Format
	Filter CIFilter
	Type   string
	Banner string
}

// exportWriter streams an export once its options have been checked.
type exportWriter func(ctx context.Context, w io.Writer) error

// ExportCIs writes every CI matching the filter, with no page limit. CSV has
// the columns id, class, name, status, marking, minUp and then, sorted, every
// attribute of the filtered class and its subclasses (of every class without
// a class filter); the first and the last line carry the classification
// banner, and text a spreadsheet would take for a formula is quoted with an
// apostrophe. JSON is {"classification": …, "items": [flat objects]}. Both
// import back unchanged.
func (s *Service) ExportCIs(ctx context.Context, w io.Writer, opt ExportOptions) error {
	write, err := s.prepareCIExport(ctx, opt)
	if err != nil {
		return err
	}
	return write(ctx, w)
}

// prepareCIExport checks the options before anything is written.
func (s *Service) prepareCIExport(ctx context.Context, opt ExportOptions) (exportWriter, error) {
	if opt.Format != reconcile.FormatCSV && opt.Format != reconcile.FormatJSON {
		return nil, errs.Field("query.format", "the format is csv or json", opt.Format)
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := opt.Filter.filters(cat)
	if err != nil {
		return nil, err
	}
	lq, err := ciSpec.Build(listing.Params{Limit: 1}, fs)
	if err != nil {
		return nil, err
	}
	var classes []int64
	if opt.Filter.Class != "" {
		classes = cat.subtree(cat.byName[opt.Filter.Class].ID)
	} else {
		classes = slices.Sorted(maps.Keys(cat.classes))
	}
	var attrs []string
	for _, id := range classes {
		for _, a := range cat.classes[id].Attributes {
			attrs = append(attrs, a.Name)
		}
	}
	slices.Sort(attrs)
	attrs = slices.Compact(attrs)
	return func(ctx context.Context, w io.Writer) error {
		banner := opt.Banner
		if banner == "" {
			if banner, err = highestMarking(ctx, s.db, `SELECT DISTINCT c.marking FROM cis c`+lq.Where, lq.Args); err != nil {
				return err
			}
		}
		out := newExportOut(w, opt.Format, banner, append(slices.Clone(ciFileColumns), attrs...))
		after := int64(0)
		cond := " WHERE "
		if lq.Where != "" {
			cond = " AND "
		}
		for {
			rows, err := s.db.QueryContext(ctx, `SELECT `+ciColumns+` FROM cis c`+lq.Where+cond+`c.id > ? ORDER BY c.id LIMIT 5000`,
				append(slices.Clone(lq.Args), after)...)
			if err != nil {
				return fmt.Errorf("export CIs: %w", err)
			}
			n := 0
			for rows.Next() {
				c, err := scanCI(rows, cat)
				if err != nil {
					rows.Close()
					return err
				}
				after, n = c.ID, n+1
				vals := []any{c.ID, c.Class, c.Name, string(c.Status), c.Marking, c.MinUp}
				for _, a := range attrs {
					vals = append(vals, c.Attrs[a])
				}
				if err := out.row(vals); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("export CIs: %w", err)
			}
			if n < 5000 {
				return out.close()
			}
		}
	}, nil
}

// ExportRelations writes the current relations whose source matches the
// filter, in the columns ImportRelations reads, with the banner as ExportCIs.
func (s *Service) ExportRelations(ctx context.Context, w io.Writer, opt RelationExportOptions) error {
	write, err := s.prepareRelationExport(ctx, opt)
	if err != nil {
		return err
	}
	return write(ctx, w)
}

func (s *Service) prepareRelationExport(ctx context.Context, opt RelationExportOptions) (exportWriter, error) {
	if opt.Format != reconcile.FormatCSV && opt.Format != reconcile.FormatJSON {
		return nil, errs.Field("query.format", "the format is csv or json", opt.Format)
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := opt.Filter.filters(cat)
	if err != nil {
		return nil, err
	}
	if opt.Type != "" {
		t, err := cat.relType("query.type", opt.Type)
		if err != nil {
			return nil, err
		}
		fs = append(fs, listing.Filter{Where: "r.type_id = ?", Args: []any{t.ID}})
	}
	lq, err := ciSpec.Build(listing.Params{Limit: 1}, fs)
	if err != nil {
		return nil, err
	}
	from := ` FROM ci_relations r JOIN cis c ON c.id = r.source_id JOIN cis t ON t.id = r.target_id`
	return func(ctx context.Context, w io.Writer) error {
		banner := opt.Banner
		if banner == "" {
			if banner, err = highestMarking(ctx, s.db, `SELECT DISTINCT c.marking FROM cis c WHERE c.id IN (SELECT r.source_id`+from+lq.Where+
				`) OR c.id IN (SELECT r.target_id`+from+lq.Where+`)`, append(slices.Clone(lq.Args), lq.Args...)); err != nil {
				return err
			}
		}
		out := newExportOut(w, opt.Format, banner, relationFileColumns)
		after := int64(0)
		cond := " WHERE "
		if lq.Where != "" {
			cond = " AND "
		}
		for {
			rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.source_id, c.class_id, c.name, r.type_id, r.target_id, t.class_id, t.name`+from+
				lq.Where+cond+`r.id > ? ORDER BY r.id LIMIT 5000`, append(slices.Clone(lq.Args), after)...)
			if err != nil {
				return fmt.Errorf("export relations: %w", err)
			}
			n := 0
			for rows.Next() {
				var src, srcClass, typ, dst, dstClass int64
				var srcName, dstName string
				if err := rows.Scan(&after, &src, &srcClass, &srcName, &typ, &dst, &dstClass, &dstName); err != nil {
					rows.Close()
					return err
				}
				n++
				if err := out.row([]any{src, cat.classes[srcClass].Name, srcName, cat.relTypes[typ].Name, dst, cat.classes[dstClass].Name, dstName}); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("export relations: %w", err)
			}
			if n < 5000 {
				return out.close()
			}
		}
	}, nil
}

// markingRank orders classification markings, lowest first; an unknown
// marking ranks just above UNCLASSIFIED.
func markingRank(m string) int {
	u := strings.ToUpper(strings.TrimSpace(m))
	switch {
	case strings.HasPrefix(u, "TOP SECRET"):
		return 4
	case strings.HasPrefix(u, "SECRET"):
		return 3
	case strings.HasPrefix(u, "CONFIDENTIAL"):
		return 2
	case strings.HasPrefix(u, "UNCLASSIFIED"):
		return 0
	}
	return 1
}

// highestMarking reads distinct markings and returns the highest, the one
// with the most caveats among equals; UNCLASSIFIED when there are none.
func highestMarking(ctx context.Context, q db.Queryer, query string, args []any) (string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return "", fmt.Errorf("read markings: %w", err)
	}
	defer rows.Close()
	best := "UNCLASSIFIED"
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return "", err
		}
		rb, rm := markingRank(best), markingRank(m)
		if rm > rb || (rm == rb && (len(m) > len(best) || (len(m) == len(best) && m < best))) {
			best = m
		}
	}
	return best, rows.Err()
}

// exportOut writes the rows of a CSV or JSON export through a buffer.
type exportOut struct {
	bw     *bufio.Writer
	cw     *csv.Writer
	cols   []string
	banner string
	first  bool
	cells  []string
	keys   [][]byte // JSON: each column's quoted name and a colon
	buf    []byte
}

func newExportOut(w io.Writer, f reconcile.Format, banner string, cols []string) *exportOut {
	o := &exportOut{bw: bufio.NewWriterSize(w, 64<<10), cols: cols, banner: banner, first: true}
	if f == reconcile.FormatCSV {
		o.cw = csv.NewWriter(o.bw)
		_ = o.cw.Write([]string{banner})
		_ = o.cw.Write(cols)
		return o
	}
	for _, c := range cols {
		k, _ := json.Marshal(c)
		o.keys = append(o.keys, append(k, ':'))
	}
	b, _ := json.Marshal(banner)
	o.bw.WriteString(`{"classification":`)
	o.bw.Write(b)
	o.bw.WriteString(`,"items":[`)
	return o
}

// row writes one row; nil values are empty (CSV) or left out (JSON).
func (o *exportOut) row(vals []any) error {
	if o.cw != nil {
		o.cells = o.cells[:0]
		for _, v := range vals {
			o.cells = append(o.cells, cellText(exportText(v)))
		}
		return o.cw.Write(o.cells)
	}
	b := o.buf[:0]
	if !o.first {
		b = append(b, ',')
	}
	o.first = false
	b = append(b, "\n{"...)
	sep := false
	for i, v := range vals {
		if v == nil {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, o.keys[i]...)
		jv, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b = append(b, jv...)
	}
	b = append(b, '}')
	o.buf = b
	_, err := o.bw.Write(b)
	return err
}

func (o *exportOut) close() error {
	if o.cw != nil {
		_ = o.cw.Write([]string{o.banner})
		o.cw.Flush()
		if err := o.cw.Error(); err != nil {
			return err
		}
	} else {
		o.bw.WriteString("\n]}\n")
	}
	return o.bw.Flush()
}

// exportText is a value as a CSV cell.
func exportText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.Abs(x) < 1e15 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
