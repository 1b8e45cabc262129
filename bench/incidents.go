package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"steward/internal/gen"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
)

// The incident scenarios run on the incident log the generator's incidents
// step writes (internal/gen/incidents.go): N incidents at scale N over two
// years, most of them closed, the open backlog in the last weeks, spread over
// the resolver groups by their sizes (the headquarters service desk has the
// longest queue). Every operation acts as a generated user with a token of
// its own: callers log their own incidents through the portal, agents read
// their group's queue and search.

// incidentQueueState is the state the queue scenario filters on: the incidents being worked on.
const incidentQueueState = "in_progress"

// incidentQueueTeams is how many of the groups with the longest queues the queue scenario rotates over.
const incidentQueueTeams = 16

// incidentScenarios measure logging an incident, a group's queue and the full-text search.
func incidentScenarios() []Scenario {
	return []Scenario{
		{
			Name:  "incident.create",
			Phase: Online,
			Measures: "POST /api/v1/incidents {title, description, impact, urgency, service, ci, category, subcategory} by a generated " +
				"user logging their own incident through the portal: the checks of service, CI, category and caller in one query, " +
				"the priority matrix, the record, its number, incident row, full-text entry, journal, audit and outbox; 201 with the incident.",
			Setup: setupIncidentCreate,
		},
		{
			Name:  "incident.queue",
			Phase: Online,
			Measures: "GET /api/v1/incidents?team={id}&state=" + incidentQueueState + "&sort=priority,createdAt&limit=50 by a member " +
				"of the group, over the 16 groups with the longest queues: the security filter, the count and the first page " +
				"of 50 with the caller, assignee, group, service, CI and category names, in two queries.",
			Setup: setupIncidentQueue,
		},
		{
			Name:  "incident.search",
			Phase: Online,
			Measures: "GET /api/v1/incidents?q={words}&limit=50 by an agent, half with two-word symptoms such as \"vpn disconnects\", " +
				"half with the host names of the CIs most incidents name: full-text match (FTS5 on SQLite, tsvector on PostgreSQL), " +
				"the count of matches and the first page by priority then age.",
			Setup: setupIncidentSearch("/api/v1/incidents?limit=50&q="),
		},
		{
			Name:  "incident.search.ranked",
			Phase: Online,
			Measures: "GET /api/v1/records?type=incident&q={words}&limit=50, the kernel's search that the desk's search box uses: " +
				"the same match, ranked by relevance (bm25 on SQLite, ts_rank on PostgreSQL).",
			Setup: setupIncidentSearch("/api/v1/records?type=incident&limit=50&q="),
		},
	}
}

// incidentUser is a generated user with a token.
type incidentUser struct {
	id    int64
	name  string
	token string
}

// incidentTokens creates a bench token for each user.
func incidentTokens(ctx context.Context, d *db.DB, env *Env, users []incidentUser) error {
	as := auth.NewService(d, audit.NewTrail(clock.System{}), outbox.New(clock.System{}, nil), clock.System{}, auth.NewHasher(1), auth.Config{})
	actx := audit.WithActor(ctx, audit.Actor{Type: "cli", Name: "cli:bench"})
	for i := range users {
		secret, _, err := as.CreateToken(actx, users[i].id, "bench "+env.RunID, 0)
		if err != nil {
			return fmt.Errorf("token for %s: %w", users[i].name, err)
		}
		users[i].token = secret
	}
	return nil
}

// incidentRef is a service or CI an incident may name.
type incidentRef struct{ service, ci int64 }

// incidentCategory is a subcategory key with its category.
type incidentCategory struct{ category, subcategory string }

// setupIncidentCreate gives every client a generated caller of its own and
// reads the services, CIs and categories the incidents name.
func setupIncidentCreate(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	callers, err := incidentUsers(ctx, d, `SELECT u.id, u.username FROM users u WHERE NOT u.disabled AND NOT u.is_admin
		AND u.id NOT IN (SELECT user_id FROM team_members) ORDER BY u.id DESC LIMIT ?`, env.Concurrency)
	if err != nil {
		return nil, nil, err
	}
	if len(callers) == 0 {
		return nil, nil, fmt.Errorf("no generated users to log incidents")
	}
	if err := incidentTokens(ctx, d, env, callers); err != nil {
		return nil, nil, err
	}
	var refs []incidentRef
	rows, err := d.QueryContext(ctx, `SELECT s.ci_id, COALESCE((SELECT MIN(c.id) FROM cis c WHERE c.id > s.ci_id AND c.status <> 'disposed'), 0)
		FROM ci_services s JOIN cis v ON v.id = s.ci_id WHERE v.status <> 'disposed' ORDER BY s.ci_id LIMIT 200`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the services: %w", err)
	}
	for rows.Next() {
		var r incidentRef
		if err := rows.Scan(&r.service, &r.ci); err != nil {
			rows.Close()
			return nil, nil, err
		}
		refs = append(refs, r)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	var cats []incidentCategory
	rows, err = d.QueryContext(ctx, `SELECT parent_key, cat_key FROM incident_categories WHERE active AND parent_key <> ''
		AND parent_key NOT LIKE 'cnd-%' ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the taxonomy: %w", err)
	}
	for rows.Next() {
		var c incidentCategory
		if err := rows.Scan(&c.category, &c.subcategory); err != nil {
			rows.Close()
			return nil, nil, err
		}
		cats = append(cats, c)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	if len(cats) == 0 {
		return nil, nil, fmt.Errorf("the incident taxonomy has no subcategories")
	}
	logf("%s incident.create: %d callers log incidents on %d services across %d subcategories", env.Engine, len(callers), len(refs), len(cats))
	words := gen.IncidentSearchTerms()
	return func(ctx context.Context, w *Worker) error {
		u := callers[w.ID%len(callers)]
		c := cats[w.Rand.IntN(len(cats))]
		var ref incidentRef
		if len(refs) > 0 {
			ref = refs[w.Rand.IntN(len(refs))]
		}
		body := incidentBody(fmt.Sprintf("Bench %s %d-%d: %s", env.RunID, w.ID, w.Seq, words[w.Rand.IntN(len(words))]),
			2+w.Rand.IntN(2), 1+w.Rand.IntN(3), ref, c)
		return env.amCall(ctx, u.token, http.MethodPost, "/api/v1/incidents", body, http.StatusCreated)
	}, nil, nil
}

// incidentBody is the JSON of an incident to log; a zero service or CI is left out.
func incidentBody(title string, impact, urgency int, ref incidentRef, c incidentCategory) string {
	m := map[string]any{"title": title, "description": "Logged by the benchmark: " + title + ". It started this morning.",
		"impact": impact, "urgency": urgency, "category": c.category, "subcategory": c.subcategory}
	if ref.service != 0 {
		m["service"] = ref.service
	}
	if ref.ci != 0 {
		m["ci"] = ref.ci
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// incidentUsers reads up to limit users with a query taking the limit.
func incidentUsers(ctx context.Context, d *db.DB, q string, limit int) ([]incidentUser, error) {
	rows, err := d.QueryContext(ctx, q, limit)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	var out []incidentUser
	for rows.Next() {
		var u incidentUser
		if err := rows.Scan(&u.id, &u.name); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// incidentQueuePath is the queue page of a team in a state, by priority then age.
func incidentQueuePath(team int64, state string) string {
	v := url.Values{"team": {strconv.FormatInt(team, 10)}, "state": {state}, "sort": {"priority,createdAt"}, "limit": {"50"}}
	return "/api/v1/incidents?" + v.Encode()
}

// queueTeam is a group with its queue's length and a member who reads it.
type queueTeam struct {
	id, size int64
	member   incidentUser
}

// readQueueTeams reads the groups with the longest queues in state and a member of each.
func readQueueTeams(ctx context.Context, d *db.DB, state string, limit int) ([]queueTeam, error) {
	rows, err := d.QueryContext(ctx, `SELECT r.team_id, COUNT(*) FROM records r WHERE r.type = 'incident' AND r.state = ?
		AND r.team_id IS NOT NULL GROUP BY r.team_id ORDER BY COUNT(*) DESC, r.team_id LIMIT ?`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("find the queues: %w", err)
	}
	var ts []queueTeam
	for rows.Next() {
		var t queueTeam
		if err := rows.Scan(&t.id, &t.size); err != nil {
			rows.Close()
			return nil, err
		}
		ts = append(ts, t)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range ts {
		if err := d.QueryRowContext(ctx, `SELECT u.id, u.username FROM team_members m JOIN users u ON u.id = m.user_id
			WHERE m.team_id = ? AND NOT u.disabled AND NOT u.is_admin ORDER BY u.id LIMIT 1`, ts[i].id).Scan(&ts[i].member.id, &ts[i].member.name); err != nil {
			return nil, fmt.Errorf("a member of team %d: %w", ts[i].id, err)
		}
	}
	return ts, nil
}

// setupIncidentQueue finds the 16 longest queues and gives each a member's token.
func setupIncidentQueue(ctx context.Context, env *Env) (Op, func(), error) {
	ts, err := queueSetup(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, len(ts))
	sizes := make([]string, len(ts))
	for i, t := range ts {
		paths[i] = incidentQueuePath(t.id, incidentQueueState)
		sizes[i] = strconv.FormatInt(t.size, 10)
		if err := incidentCheck(ctx, env, t.member.token, paths[i]); err != nil {
			return nil, nil, err
		}
	}
	logf("%s incident.queue: %d groups, queues of %s incidents %s", env.Engine, len(ts), strings.Join(sizes, ", "), incidentQueueState)
	return func(ctx context.Context, w *Worker) error {
		k := w.ID % len(ts)
		return env.amGet(ctx, ts[k].member.token, paths[k])
	}, nil, nil
}

// queueSetup reads the longest queues with a member of each and creates the members' tokens.
func queueSetup(ctx context.Context, env *Env) ([]queueTeam, error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	ts, err := readQueueTeams(ctx, d, incidentQueueState, incidentQueueTeams)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no incidents %s (was the organisation generated with its incidents?)", incidentQueueState)
	}
	users := make([]incidentUser, len(ts))
	for i, t := range ts {
		users[i] = t.member
	}
	if err := incidentTokens(ctx, d, env, users); err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].member = users[i]
	}
	return ts, nil
}

// setupIncidentSearch returns the setup of a search scenario whose paths are
// prefix followed by the escaped words of a query.
func setupIncidentSearch(prefix string) func(ctx context.Context, env *Env) (Op, func(), error) {
	return func(ctx context.Context, env *Env) (Op, func(), error) {
		ts, err := queueSetup(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		terms, err := searchTerms(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		paths := make([]string, len(terms))
		var counts []string
		for i, t := range terms {
			paths[i] = prefix + url.QueryEscape(t)
			n, err := incidentCount(ctx, env, ts[0].member.token, paths[i])
			if err != nil {
				return nil, nil, err
			}
			counts = append(counts, fmt.Sprintf("%q %d", t, n))
		}
		logf("%s %s…: %s", env.Engine, prefix, strings.Join(counts, ", "))
		return func(ctx context.Context, w *Worker) error {
			return env.amGet(ctx, ts[w.ID%len(ts)].member.token, paths[w.Rand.IntN(len(paths))])
		}, nil, nil
	}
}

// searchTerms are the queries of the search scenarios: the generator's
// two-word symptom searches (each in about 1 to 4 % of the incidents), and
// the names of the CIs most incidents name (host names such as
// "stut01-srv00042", which the tokenizer splits into two words), as an agent
// looks for what else happened on a server.
func searchTerms(ctx context.Context, env *Env) ([]string, error) {
	terms := gen.IncidentSearchTerms()
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	rows, err := d.QueryContext(ctx, `SELECT c.name FROM (SELECT ci_id, COUNT(*) AS n FROM incidents WHERE ci_id IS NOT NULL
		GROUP BY ci_id ORDER BY n DESC, ci_id LIMIT ?) x JOIN cis c ON c.id = x.ci_id ORDER BY x.n DESC, c.id`, len(terms))
	if err != nil {
		return nil, fmt.Errorf("find the CIs with the most incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		terms = append(terms, name)
	}
	return terms, rows.Err()
}

// incidentCheck fails unless path answers 200 with at least one item.
func incidentCheck(ctx context.Context, env *Env, token, path string) error {
	n, err := incidentCount(ctx, env, token, path)
	if err == nil && n == 0 {
		err = fmt.Errorf("GET %s: nothing matches", path)
	}
	return err
}

// incidentCount makes one request and returns its X-Total-Count.
func incidentCount(ctx context.Context, env *Env, token, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.BaseURL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	return strconv.ParseInt(resp.Header.Get("X-Total-Count"), 10, 64)
}

// amGet sends one GET with token and fails unless the status is 200; it reads the whole body so the connection is reused.
func (env *Env) amGet(ctx context.Context, token, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.BaseURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	return nil
}
