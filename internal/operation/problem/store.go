package problem

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// ---- CMDB references ----

// checkService refuses an id that is not a CMDB service (a CI with a row in
// ci_services) or is a disposed one, naming loc.
func checkService(ctx context.Context, q db.Queryer, loc string, id int64) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT c.status FROM ci_services s JOIN cis c ON c.id = s.ci_id WHERE s.ci_id = ?`, id).Scan(&status)
	switch {
	case db.IsNoRows(err):
		return errs.Field(loc, "no such service in the CMDB", id)
	case err != nil:
		return fmt.Errorf("check service %d: %w", id, err)
	case status == "disposed":
		return errs.Field(loc, "the service is disposed of", id)
	}
	return nil
}

// checkCI refuses an id that names no CMDB configuration item, or a disposed one, naming loc.
func checkCI(ctx context.Context, q db.Queryer, loc string, id int64) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT status FROM cis WHERE id = ?`, id).Scan(&status)
	switch {
	case db.IsNoRows(err):
		return errs.Field(loc, "no such configuration item in the CMDB", id)
	case err != nil:
		return fmt.Errorf("check CI %d: %w", id, err)
	case status == "disposed":
		return errs.Field(loc, "the configuration item is disposed of", id)
	}
	return nil
}

// checkRefs checks the service and CI a problem or known error names, where
// they differ from the previous ones (a CI disposed of since stays where it is).
func checkRefs(ctx context.Context, q db.Queryer, service, prevService, ci, prevCI int64) error {
	var f fieldErrs
	for _, c := range []struct {
		id, prev int64
		check    func() error
	}{
		{service, prevService, func() error { return checkService(ctx, q, "body.service", service) }},
		{ci, prevCI, func() error { return checkCI(ctx, q, "body.ci", ci) }},
	} {
		if c.id == 0 || c.id == c.prev {
			continue
		}
		err := c.check()
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			f = append(f, e.Fields...)
			continue
		}
		if err != nil {
			return err
		}
	}
	return f.err()
}

// ---- problems ----

func insertProblem(ctx context.Context, tx *db.Tx, id int64, d Details, origin Origin, t *ProblemTrend) error {
	var by, key string
	var from, to, count int64
	if t != nil {
		by, key, from, to, count = string(t.By), t.Key, t.From.UnixMilli(), t.To.UnixMilli(), t.Count
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO problems (record_id, category, subcategory, impact, urgency, major, ci_id, origin,
		trend_by, trend_key, trend_from, trend_to, trend_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, d.Category, d.Subcategory, d.Impact, d.Urgency, d.Major, db.NullID(d.CIID), string(origin), by, key, from, to, count); err != nil {
		return fmt.Errorf("insert problem: %w", err)
	}
	return nil
}

func updateDetails(ctx context.Context, tx *db.Tx, id int64, d Details) error {
	if _, err := tx.ExecContext(ctx, `UPDATE problems SET category = ?, subcategory = ?, impact = ?, urgency = ?, major = ?, ci_id = ?
		WHERE record_id = ?`, d.Category, d.Subcategory, d.Impact, d.Urgency, d.Major, db.NullID(d.CIID), id); err != nil {
		return fmt.Errorf("update problem: %w", err)
	}
	return nil
}

// problemCols are the problem columns scanProblem reads after the record's,
// from problemFrom.
const problemCols = `, p.category, p.subcategory, p.impact, p.urgency, p.major, COALESCE(p.ci_id, 0), COALESCE(c.name, ''),
	COALESCE(sv.name, ''), p.origin, p.trend_by, p.trend_key, p.trend_from, p.trend_to, p.trend_count, p.workaround, p.rfc_ref,
	p.rfc_raised_at, p.resolution, p.resolved_at,
	COALESCE((SELECT x.root_cause FROM problem_rcas x WHERE x.record_id = r.id AND x.root_cause <> '' ORDER BY x.id DESC LIMIT 1), ''),
	(SELECT COUNT(*) FROM record_links l WHERE l.to_id = r.id AND l.type = 'caused_by'),
	rv.summary, rv.lessons, rv.follow_ups, COALESCE(rv.reviewed_by, 0), COALESCE(ru.username, ''), rv.reviewed_at`

const problemFrom = ` FROM records r JOIN problems p ON p.record_id = r.id LEFT JOIN cis c ON c.id = p.ci_id
	LEFT JOIN cis sv ON sv.id = r.service_id LEFT JOIN problem_reviews rv ON rv.record_id = r.id
	LEFT JOIN users ru ON ru.id = rv.reviewed_by`

func scanProblem(sc listing.Scanner) (Problem, error) {
	var p Problem
	var origin, by, key string
	var from, to, count, raised, resolved int64
	var summary, lessons, followUps sql.NullString
	var reviewedBy int64
	var reviewer string
	var reviewedAt sql.NullInt64
	r, err := record.Scan(sc, &p.Category, &p.Subcategory, &p.Impact, &p.Urgency, &p.Major, &p.CIID, &p.CIName, &p.ServiceName,
		&origin, &by, &key, &from, &to, &count, &p.Workaround, &p.RFC, &raised, &p.Resolution, &resolved, &p.RootCause,
		&p.IncidentCount, &summary, &lessons, &followUps, &reviewedBy, &reviewer, &reviewedAt)
	if err != nil {
		return p, err
	}
	p.Record, p.Origin, p.RFCRaisedAt, p.ResolvedAt = r, Origin(origin), db.TimePtr(raised), db.TimePtr(resolved)
	if by != "" {
		p.Trend = &ProblemTrend{By: TrendBy(by), Key: key, From: db.Time(from), To: db.Time(to), Count: count}
	}
	if summary.Valid {
		rv := &ProblemReview{Summary: summary.String, Lessons: lessons.String, ReviewedBy: reviewedBy, ReviewedByName: reviewer,
			ReviewedAt: db.Time(reviewedAt.Int64), FollowUps: []string{}}
		if err := json.Unmarshal([]byte(followUps.String), &rv.FollowUps); err != nil {
			return p, fmt.Errorf("read the follow-ups of %s: %w", r.Number, err)
		}
		p.Review = rv
	}
	return p, nil
}

// loadProblem reads a problem's own row with its record, by record id.
func loadProblem(ctx context.Context, q db.Queryer, id int64) (Problem, error) {
	p, err := scanProblem(q.QueryRowContext(ctx, `SELECT `+record.Columns+problemCols+problemFrom+` WHERE r.id = ?`, id))
	if db.IsNoRows(err) {
		return p, errs.E(errs.NotFound, "no problem with record id %d", id)
	}
	if err != nil {
		return p, fmt.Errorf("read problem %d: %w", id, err)
	}
	return p, nil
}

// problemState is the part of a problem's row its workflow checks read.
type problemState struct {
	Major         bool
	RFC           string
	HasRootCause  bool
	HasReview     bool
	Workaround    string
	OpenKnownErrs []string
}

func loadProblemState(ctx context.Context, q db.Queryer, id int64) (problemState, error) {
	var st problemState
	err := q.QueryRowContext(ctx, `SELECT p.major, p.rfc_ref, p.workaround,
		EXISTS (SELECT 1 FROM problem_rcas x WHERE x.record_id = p.record_id AND x.root_cause <> ''),
		EXISTS (SELECT 1 FROM problem_reviews v WHERE v.record_id = p.record_id)
		FROM problems p WHERE p.record_id = ?`, id).Scan(&st.Major, &st.RFC, &st.Workaround, &st.HasRootCause, &st.HasReview)
	if err != nil {
		return st, fmt.Errorf("read the state of problem %d: %w", id, err)
	}
	return st, nil
}

func setRFC(ctx context.Context, tx *db.Tx, id int64, ref string, at int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE problems SET rfc_ref = ?, rfc_raised_at = ? WHERE record_id = ?`, ref, at, id); err != nil {
		return fmt.Errorf("store the RFC reference: %w", err)
	}
	return nil
}

func setResolution(ctx context.Context, tx *db.Tx, id int64, resolution string, at int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE problems SET resolution = ?, resolved_at = ? WHERE record_id = ?`, resolution, at, id); err != nil {
		return fmt.Errorf("store the resolution: %w", err)
	}
	return nil
}

func setWorkaround(ctx context.Context, tx *db.Tx, id int64, text string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE problems SET workaround = ? WHERE record_id = ?`, text, id); err != nil {
		return fmt.Errorf("store the workaround: %w", err)
	}
	return nil
}

// problemList describes how problems are listed, sorted and filtered.
var problemList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":          {SQL: "r.id", Kind: "int"},
		"number":      {SQL: "r.number", Sortable: true, Kind: "text"},
		"state":       {SQL: "r.state", Sortable: true, Kind: "text"},
		"priority":    {SQL: "COALESCE(r.priority, 6)", Sortable: true, Kind: "int"},
		"createdAt":   {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt":   {SQL: "r.updated_at", Sortable: true, Kind: "int"},
		"closed":      {SQL: "r.closed", Kind: "bool"},
		"serviceId":   {SQL: "r.service_id", Kind: "int"},
		"ciId":        {SQL: "p.ci_id", Kind: "int"},
		"category":    {SQL: "p.category", Kind: "text"},
		"subcategory": {SQL: "p.subcategory", Kind: "text"},
		"major":       {SQL: "p.major", Kind: "bool"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "r.id",
}

// problemSource reads pages of problems: one count and one page query.
var problemSource = listing.Source[Problem]{
	Spec:    problemList,
	From:    strings.TrimPrefix(problemFrom, " FROM "),
	Columns: record.Columns + problemCols,
	Scan:    scanProblem,
	Key: func(p Problem, field string) any {
		switch field {
		case "number":
			return p.Number
		case "state":
			return p.State
		case "priority":
			if p.Priority == 0 {
				return int64(6)
			}
			return int64(p.Priority)
		case "createdAt":
			return p.CreatedAt.UnixMilli()
		case "updatedAt":
			return p.UpdatedAt.UnixMilli()
		}
		return nil
	},
	ID: func(p Problem) int64 { return p.ID },
}

// linkedIncident is a record linked to a problem as caused by it, with the link.
type linkedIncident struct {
	record.Record
	LinkID   int64
	LinkedAt int64
}

// loadLinked reads, in one query, the records a problem causes (the
// incidents linked to it), oldest link first.
func loadLinked(ctx context.Context, q db.Queryer, problemID int64) ([]linkedIncident, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+record.Columns+`, l.id, l.created_at FROM record_links l JOIN records r ON r.id = l.from_id
		WHERE l.to_id = ? AND l.type = 'caused_by' ORDER BY l.id`, problemID)
	if err != nil {
		return nil, fmt.Errorf("read linked incidents: %w", err)
	}
	defer rows.Close()
	var out []linkedIncident
	for rows.Next() {
		var li linkedIncident
		if li.Record, err = record.Scan(rows, &li.LinkID, &li.LinkedAt); err != nil {
			return nil, fmt.Errorf("read linked incidents: %w", err)
		}
		out = append(out, li)
	}
	return out, rows.Err()
}

// ---- root-cause analyses and reviews ----

func insertRCA(ctx context.Context, tx *db.Tx, id int64, in NewRCA, by, now int64) (int64, error) {
	ev, err := json.Marshal(in.Evidence)
	if err != nil {
		return 0, fmt.Errorf("encode evidence: %w", err)
	}
	var rid int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO problem_rcas (record_id, method, findings, evidence, root_cause, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, string(in.Method), in.Findings, string(ev), in.RootCause, db.NullID(by), now).Scan(&rid); err != nil {
		return 0, fmt.Errorf("insert root-cause analysis: %w", err)
	}
	return rid, nil
}

// loadRCAs reads a problem's root-cause analyses, oldest first.
func loadRCAs(ctx context.Context, q db.Queryer, id int64) ([]RCA, error) {
	rows, err := q.QueryContext(ctx, `SELECT x.id, x.method, x.findings, x.evidence, x.root_cause, COALESCE(x.created_by, 0),
		COALESCE(u.username, ''), x.created_at FROM problem_rcas x LEFT JOIN users u ON u.id = x.created_by
		WHERE x.record_id = ? ORDER BY x.id`, id)
	if err != nil {
		return nil, fmt.Errorf("read root-cause analyses: %w", err)
	}
	defer rows.Close()
	out := []RCA{}
	for rows.Next() {
		var a RCA
		var method, evidence string
		var at int64
		if err := rows.Scan(&a.ID, &method, &a.Findings, &evidence, &a.RootCause, &a.CreatedBy, &a.CreatedByName, &at); err != nil {
			return nil, fmt.Errorf("read root-cause analyses: %w", err)
		}
		a.Method, a.CreatedAt, a.Evidence = Method(method), db.Time(at), []RCAEvidence{}
		if err := json.Unmarshal([]byte(evidence), &a.Evidence); err != nil {
			return nil, fmt.Errorf("read the evidence of analysis %d: %w", a.ID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func saveReview(ctx context.Context, tx *db.Tx, id int64, in NewReview, by, now int64) error {
	fu, err := json.Marshal(in.FollowUps)
	if err != nil {
		return fmt.Errorf("encode follow-ups: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO problem_reviews (record_id, summary, lessons, follow_ups, reviewed_by, reviewed_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET summary = excluded.summary, lessons = excluded.lessons,
		follow_ups = excluded.follow_ups, reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at`,
		id, in.Summary, in.Lessons, string(fu), db.NullID(by), now); err != nil {
		return fmt.Errorf("save the review: %w", err)
	}
	return nil
}

// ---- known errors ----

// keRow is a known error's own row, as the store writes it.
type keRow struct {
	ProblemID   int64
	State       string
	RootCause   string
	Workaround  string
	Category    string
	Subcategory string
	ServiceID   int64
	CIID        int64
}

func insertKnownError(ctx context.Context, tx *db.Tx, id int64, k keRow) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO known_errors (record_id, problem_id, state, root_cause, workaround,
		category, subcategory, service_id, ci_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, db.NullID(k.ProblemID), k.State, k.RootCause, k.Workaround, k.Category, k.Subcategory,
		db.NullID(k.ServiceID), db.NullID(k.CIID)); err != nil {
		return fmt.Errorf("insert known error: %w", err)
	}
	return nil
}

func updateKnownError(ctx context.Context, tx *db.Tx, id int64, k keRow) error {
	if _, err := tx.ExecContext(ctx, `UPDATE known_errors SET root_cause = ?, workaround = ?, category = ?,
		subcategory = ?, service_id = ?, ci_id = ? WHERE record_id = ?`, k.RootCause, k.Workaround, k.Category,
		k.Subcategory, db.NullID(k.ServiceID), db.NullID(k.CIID), id); err != nil {
		return fmt.Errorf("update known error: %w", err)
	}
	return nil
}

func setKnownErrorState(ctx context.Context, tx *db.Tx, id int64, state string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE known_errors SET state = ? WHERE record_id = ?`, state, id); err != nil {
		return fmt.Errorf("mirror the known error's state: %w", err)
	}
	return nil
}

// knownErrorCols are the known error columns scanKnownError reads after the
// record's, from knownErrorFrom.
const knownErrorCols = `, COALESCE(pr.number, ''), COALESCE(pr.title, ''), k.root_cause, k.workaround,
	COALESCE(p.workaround, ''), k.category, k.subcategory, COALESCE(k.ci_id, 0), COALESCE(c.name, ''), COALESCE(sv.name, '')`

const knownErrorFrom = ` FROM records r JOIN known_errors k ON k.record_id = r.id LEFT JOIN records pr ON pr.id = k.problem_id
	LEFT JOIN problems p ON p.record_id = k.problem_id LEFT JOIN cis c ON c.id = k.ci_id LEFT JOIN cis sv ON sv.id = r.service_id`

func scanKnownError(sc listing.Scanner) (KnownError, error) {
	var k KnownError
	var inherited string
	r, err := record.Scan(sc, &k.Problem, &k.ProblemTitle, &k.RootCause, &k.Workaround, &inherited, &k.Category,
		&k.Subcategory, &k.CIID, &k.CIName, &k.ServiceName)
	k.Record, k.Symptoms = r, r.Description
	if k.Workaround == "" && inherited != "" {
		k.Workaround, k.WorkaroundFromProblem = inherited, true
	}
	return k, err
}

// loadKnownError reads a known error's own row with its record, by record id.
func loadKnownError(ctx context.Context, q db.Queryer, id int64) (KnownError, error) {
	k, err := scanKnownError(q.QueryRowContext(ctx, `SELECT `+record.Columns+knownErrorCols+knownErrorFrom+` WHERE r.id = ?`, id))
	if db.IsNoRows(err) {
		return k, errs.E(errs.NotFound, "no known error with record id %d", id)
	}
	if err != nil {
		return k, fmt.Errorf("read known error %d: %w", id, err)
	}
	return k, nil
}

// loadKeRow reads the own row of a known error as the store writes it.
func loadKeRow(ctx context.Context, q db.Queryer, id int64) (keRow, error) {
	var k keRow
	var problem, service, ci sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT problem_id, state, root_cause, workaround, category, subcategory, service_id, ci_id
		FROM known_errors WHERE record_id = ?`, id).Scan(&problem, &k.State, &k.RootCause, &k.Workaround, &k.Category,
		&k.Subcategory, &service, &ci)
	if err != nil {
		return k, fmt.Errorf("read known error %d: %w", id, err)
	}
	k.ProblemID, k.ServiceID, k.CIID = problem.Int64, service.Int64, ci.Int64
	return k, nil
}

// knownErrorsOf lists the known errors of a problem, oldest first.
func knownErrorsOf(ctx context.Context, q db.Queryer, problemID int64) ([]KnownErrorRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.number, r.title, r.state FROM known_errors k JOIN records r ON r.id = k.record_id
		WHERE k.problem_id = ? ORDER BY r.id`, problemID)
	if err != nil {
		return nil, fmt.Errorf("read the known errors of problem %d: %w", problemID, err)
	}
	defer rows.Close()
	out := []KnownErrorRef{}
	for rows.Next() {
		var k KnownErrorRef
		if err := rows.Scan(&k.Number, &k.Title, &k.State); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// inheritingKnownErrors lists the known errors of a problem that take its
// workaround (their own is empty) and are not retired, with the text they are indexed by.
func inheritingKnownErrors(ctx context.Context, q db.Queryer, problemID int64) ([]indexed, error) {
	rows, err := q.QueryContext(ctx, `SELECT k.record_id, r.number, r.title, r.description FROM known_errors k JOIN records r ON r.id = k.record_id
		WHERE k.problem_id = ? AND k.workaround = '' AND k.state <> ? ORDER BY k.record_id`, problemID, Retired)
	if err != nil {
		return nil, fmt.Errorf("find the known errors inheriting the workaround: %w", err)
	}
	defer rows.Close()
	var out []indexed
	for rows.Next() {
		var x indexed
		if err := rows.Scan(&x.ID, &x.Number, &x.Title, &x.Symptoms); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// indexed is a known error with the text it is indexed by.
type indexed struct {
	ID       int64
	Number   string
	Title    string
	Symptoms string
}

// openKnownErrors lists the numbers of a problem's known errors that are not retired.
func openKnownErrors(ctx context.Context, q db.Queryer, problemID int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.number FROM known_errors k JOIN records r ON r.id = k.record_id
		WHERE k.problem_id = ? AND k.state <> ? ORDER BY k.record_id`, problemID, Retired)
	if err != nil {
		return nil, fmt.Errorf("find the known errors to retire: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// knownErrorList describes how known errors are listed, sorted and filtered.
var knownErrorList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":          {SQL: "r.id", Kind: "int"},
		"number":      {SQL: "r.number", Sortable: true, Kind: "text"},
		"state":       {SQL: "k.state", Sortable: true, Kind: "text"},
		"createdAt":   {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt":   {SQL: "r.updated_at", Sortable: true, Kind: "int"},
		"problemId":   {SQL: "k.problem_id", Kind: "int"},
		"serviceId":   {SQL: "k.service_id", Kind: "int"},
		"ciId":        {SQL: "k.ci_id", Kind: "int"},
		"category":    {SQL: "k.category", Kind: "text"},
		"subcategory": {SQL: "k.subcategory", Kind: "text"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "r.id",
}

var knownErrorSource = listing.Source[KnownError]{
	Spec:    knownErrorList,
	From:    strings.TrimPrefix(knownErrorFrom, " FROM "),
	Columns: record.Columns + knownErrorCols,
	Scan:    scanKnownError,
	Key: func(k KnownError, field string) any {
		switch field {
		case "number":
			return k.Number
		case "state":
			return k.State
		case "createdAt":
			return k.CreatedAt.UnixMilli()
		case "updatedAt":
			return k.UpdatedAt.UnixMilli()
		}
		return nil
	},
	ID: func(k KnownError) int64 { return k.ID },
}

// candidateCols are what matching reads of a candidate known error.
const candidateCols = `k.record_id, r.number, r.title, r.description, k.workaround, COALESCE(p.workaround, ''), COALESCE(pr.number, ''),
	COALESCE(k.ci_id, 0), COALESCE(k.service_id, 0), k.category, k.subcategory`

// candidate is a known error matching may offer.
type candidate struct {
	Candidate
	ID      int64
	Number  string
	Problem string
}

// publishedKey is the row of known_error_word_counts that counts the
// published known errors; no word is empty.
const publishedKey = ""

// putWords replaces the words of a known error with the distinct stems of its
// title, symptoms and effective workaround (see WordsOf), and keeps the count
// of known errors holding each word in step.
func putWords(ctx context.Context, tx *db.Tx, id int64, texts ...string) error {
	old, err := wordsOfRecord(ctx, tx, id)
	if err != nil {
		return err
	}
	now := WordsOf(texts...)
	var added, removed []string
	for _, w := range now {
		if !slices.Contains(old, w) {
			added = append(added, w)
		}
	}
	for _, w := range old {
		if !slices.Contains(now, w) {
			removed = append(removed, w)
		}
	}
	if err := dropWords(ctx, tx, id, removed); err != nil {
		return err
	}
	for part := range slices.Chunk(added, 250) {
		args := make([]any, 0, 2*len(part))
		counts := make([]any, 0, len(part))
		for _, w := range part {
			args, counts = append(args, w, id), append(counts, w)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO known_error_words (word, record_id) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?),", len(part)), ","), args...); err != nil {
			return fmt.Errorf("store the words of known error %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO known_error_word_counts (word, n) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, 1),", len(part)), ",")+
			` ON CONFLICT (word) DO UPDATE SET n = known_error_word_counts.n + 1`, counts...); err != nil {
			return fmt.Errorf("count the words of known error %d: %w", id, err)
		}
	}
	return nil
}

// wordsOfRecord lists the words stored for a known error.
func wordsOfRecord(ctx context.Context, q db.Queryer, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT word FROM known_error_words WHERE record_id = ? ORDER BY word`, id)
	if err != nil {
		return nil, fmt.Errorf("read the words of known error %d: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// dropWords removes words of a known error and counts them out.
func dropWords(ctx context.Context, tx *db.Tx, id int64, words []string) error {
	for part := range slices.Chunk(words, 250) {
		list, args := db.In(part)
		if _, err := tx.ExecContext(ctx, `DELETE FROM known_error_words WHERE record_id = ? AND word IN `+list,
			append([]any{id}, args...)...); err != nil {
			return fmt.Errorf("forget the words of known error %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE known_error_word_counts SET n = n - 1 WHERE word IN `+list, args...); err != nil {
			return fmt.Errorf("count out the words of known error %d: %w", id, err)
		}
	}
	return nil
}

// forgetWords removes all the words of a known error no longer offered.
func forgetWords(ctx context.Context, tx *db.Tx, id int64) error {
	old, err := wordsOfRecord(ctx, tx, id)
	if err != nil {
		return err
	}
	return dropWords(ctx, tx, id, old)
}

// countPublished adds delta to the count of published known errors.
func countPublished(ctx context.Context, tx *db.Tx, delta int) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO known_error_word_counts (word, n) VALUES (?, ?)
		ON CONFLICT (word) DO UPDATE SET n = known_error_word_counts.n + excluded.n`, publishedKey, delta); err != nil {
		return fmt.Errorf("count the published known errors: %w", err)
	}
	return nil
}

// docFreqs reads, in one query of primary-key lookups, in how many known
// errors the stem of each term occurs and how many known errors are published.
func docFreqs(ctx context.Context, q db.Queryer, terms []string) (df []int64, published int64, err error) {
	keys := []string{publishedKey}
	index := map[string][]int{}
	for i, t := range terms {
		s := stem(t)
		if _, seen := index[s]; !seen {
			keys = append(keys, s)
		}
		index[s] = append(index[s], i)
	}
	list, args := db.In(keys)
	rows, err := q.QueryContext(ctx, `SELECT word, n FROM known_error_word_counts WHERE word IN `+list, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("count the words of known errors: %w", err)
	}
	defer rows.Close()
	df = make([]int64, len(terms))
	for rows.Next() {
		var word string
		var n int64
		if err := rows.Scan(&word, &n); err != nil {
			return nil, 0, fmt.Errorf("count the words of known errors: %w", err)
		}
		if word == publishedKey {
			published = n
		}
		for _, i := range index[word] {
			df[i] = n
		}
	}
	return df, published, rows.Err()
}

// loadCandidates reads, in one query, the published known errors that may
// reach MinScore: those holding any of terms (best first), of the same CI, of
// the same service (which with the same category is enough), and of the same
// category and subcategory; at most candidateLimit found each way.
func loadCandidates(ctx context.Context, q db.Queryer, text textIndex, kq KnownErrorQuery, terms []string) ([]candidate, error) {
	var parts []string
	var args []any
	if len(terms) > 0 {
		s, a := text.anyWord(terms, candidateLimit)
		parts, args = append(parts, `SELECT id FROM (`+s+`) t`), append(args, a...)
	}
	by := func(cond string, vals ...any) {
		parts = append(parts, `SELECT id FROM (SELECT record_id AS id FROM known_errors WHERE state = ? AND `+cond+
			` ORDER BY record_id DESC LIMIT ?) x`+strconv.Itoa(len(parts)))
		args = append(append(append(args, Published), vals...), candidateLimit)
	}
	if kq.CIID != 0 {
		by("ci_id = ?", kq.CIID)
	}
	if kq.ServiceID != 0 {
		by("service_id = ?", kq.ServiceID)
	}
	if kq.Category != "" && kq.Subcategory != "" {
		by("category = ? AND subcategory = ?", kq.Category, kq.Subcategory)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `WITH cand AS (`+strings.Join(parts, " UNION ")+`)
		SELECT `+candidateCols+` FROM cand JOIN known_errors k ON k.record_id = cand.id JOIN records r ON r.id = k.record_id
		LEFT JOIN problems p ON p.record_id = k.problem_id LEFT JOIN records pr ON pr.id = k.problem_id
		WHERE k.state = ?`, append(args, Published)...)
	if err != nil {
		return nil, fmt.Errorf("find known errors: %w", err)
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		var inherited string
		if err := rows.Scan(&c.ID, &c.Number, &c.Title, &c.Symptoms, &c.Workaround, &inherited, &c.Problem, &c.CIID, &c.ServiceID,
			&c.Category, &c.Subcategory); err != nil {
			return nil, fmt.Errorf("find known errors: %w", err)
		}
		if c.Workaround == "" {
			c.Workaround = inherited
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
