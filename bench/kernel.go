package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"steward/internal/framework"
	"steward/internal/improvement/controls"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// The kernel's guarded transition: a process manager sends a generated
// process document to review and back (submit, rework), each step performing
// the Establish activity of the document's process (IM1, ChM1 …), which the
// RACI guard allows because a generated role assignment makes the user the
// process's manager (R). Every client works on a document of its own, so that
// the clients never conflict on a version.

// kernelScenarios measure the guarded transition over HTTP, the same in-process,
// and in-process with a guard that always allows: the difference of the last
// two is the guard's cost.
func kernelScenarios() []Scenario {
	return []Scenario{
		{
			Name:  "kernel.transition.guarded",
			Phase: Online,
			Limit: "kernel.transition.guarded.in-process",
			Measures: "POST /api/v1/records/{number}/actions/{submit|rework} with If-Match on a generated process document, " +
				"by its process manager's token: the RACI guard (role resolution, the I holders), the transition, journal, audit and outbox.",
			Setup: setupHTTPTransition,
		},
		{
			Name:  "kernel.transition.guarded.in-process",
			Phase: Offline,
			Measures: "The same transitions through record.Service.Perform in-process, with the real RACI guard (raci.Service), " +
				"without HTTP, the token lookup or JSON.",
			Setup: func(ctx context.Context, env *Env) (Op, func(), error) {
				return setupInProcessTransition(ctx, env, true)
			},
		},
		{
			Name:  "kernel.transition.unguarded",
			Phase: Offline,
			Measures: "The same in-process transitions with a guard that always allows and knows the informed (I) holders " +
				"without asking the database: what the transition costs without the RACI guard.",
			Setup: func(ctx context.Context, env *Env) (Op, func(), error) {
				return setupInProcessTransition(ctx, env, false)
			},
		},
	}
}

// target is one client's document and the process manager who moves it.
type target struct {
	number   string
	userID   int64
	username string
	// state and version are what the client last saw.
	state   string
	version int64
}

// next is the action that moves the document on: to review from draft, back otherwise.
func (t *target) next() string {
	if t.state == controls.DocDraft {
		return "submit"
	}
	return "rework"
}

// findTargets picks n process documents in draft or review with no waiting
// step, each with an enabled user who holds the unscoped process-manager role
// of its process, spreading the documents over the managers.
func findTargets(ctx context.Context, d *db.DB, n int) ([]target, error) {
	rows, err := d.QueryContext(ctx, `SELECT r.number, r.state, r.version, u.id, u.username FROM records r
		JOIN raci_assignments a ON a.subject = r.process AND a.role = 'process-manager' AND a.user_id IS NOT NULL AND a.scope_team_id IS NULL
		JOIN users u ON u.id = a.user_id AND NOT u.disabled
		WHERE r.type = ? AND r.state IN (?, ?)
		AND NOT EXISTS (SELECT 1 FROM record_steps s WHERE s.record_id = r.id AND s.state IN ('consulting', 'pending_approval'))
		ORDER BY r.id, a.id`, controls.DocumentType, controls.DocDraft, controls.DocInReview)
	if err != nil {
		return nil, fmt.Errorf("find documents to transition: %w", err)
	}
	defer rows.Close()
	var out []target
	seen := map[string]bool{}
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.number, &t.state, &t.version, &t.userID, &t.username); err != nil {
			return nil, err
		}
		if !seen[t.number] {
			seen[t.number] = true
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) < n {
		return nil, fmt.Errorf("only %d process documents in draft or review with a process manager; %d clients need one each (generate a larger scale)", len(out), n)
	}
	return out[:n], nil
}

// setupHTTPTransition gives every client a document and a token of its manager.
func setupHTTPTransition(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	ts, err := findTargets(ctx, d, env.Concurrency)
	if err != nil {
		return nil, nil, err
	}
	as := auth.NewService(d, audit.NewTrail(clock.System{}), outbox.New(clock.System{}, nil), clock.System{}, auth.NewHasher(1), auth.Config{})
	tokens := map[int64]string{}
	for _, t := range ts {
		if _, ok := tokens[t.userID]; ok {
			continue
		}
		secret, _, err := as.CreateToken(audit.WithActor(ctx, audit.Actor{Type: "cli", Name: "cli:bench"}), t.userID, "bench "+env.RunID, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("token for %s: %w", t.username, err)
		}
		tokens[t.userID] = secret
	}
	op := func(ctx context.Context, w *Worker) error {
		t := &ts[w.ID]
		tok := tokens[t.userID]
		status, etag, body, err := env.send(ctx, tok, http.MethodPost, "/api/v1/records/"+t.number+"/actions/"+t.next(),
			map[string]string{"If-Match": `"` + strconv.FormatInt(t.version, 10) + `"`})
		if err == nil && status == http.StatusOK {
			if err = t.read(etag, body); err == nil {
				return nil
			}
		}
		if err == nil {
			err = fmt.Errorf("%s %s: status %d: %s", t.next(), t.number, status, strings.TrimSpace(string(body[:min(len(body), 300)])))
		}
		// Read the document again, so that the next operation starts from its real state.
		if st, etag, body, e := env.send(ctx, tok, http.MethodGet, "/api/v1/records/"+t.number, nil); e == nil && st == http.StatusOK {
			_ = t.read(etag, body)
		}
		return err
	}
	return op, nil, nil
}

// read takes the version from an ETag and the state from a record or a workflow result.
func (t *target) read(etag string, body []byte) error {
	v, err := strconv.ParseInt(strings.Trim(etag, `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: ETag %q", t.number, etag)
	}
	var r struct {
		State  string `json:"state"`
		Record *struct {
			State string `json:"state"`
		} `json:"record"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: %w", t.number, err)
	}
	if r.Record != nil {
		r.State = r.Record.State
	}
	t.version, t.state = v, r.State
	return nil
}

// send makes one request with token and returns its status, ETag and body.
func (env *Env) send(ctx context.Context, token, method, path string, header map[string]string) (int, string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, env.BaseURL+path, nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), b, err
}

// allowAll is a guard that allows every step and knows each activity's holders
// without asking the database: it asks the real guard once per process,
// activity, letter and scope, and remembers the answer.
type allowAll struct {
	real  raci.Guard
	mu    sync.Mutex
	known map[string][]raci.Holder
}

// Decide allows.
func (g *allowAll) Decide(_ context.Context, _ *auth.Principal, process, activity string, _ raci.Scope) (raci.Decision, error) {
	return raci.Decision{Allowed: true, Process: process, Activity: activity, Explanation: "unguarded"}, nil
}

// Holders returns the holders the real guard named the first time it was asked.
func (g *allowAll) Holders(ctx context.Context, process, activity string, letter framework.Cell, scope raci.Scope) ([]raci.Holder, error) {
	key := fmt.Sprintf("%s|%s|%s|%d|%d", process, activity, letter, scope.TeamID, scope.ServiceID)
	g.mu.Lock()
	defer g.mu.Unlock()
	if hs, ok := g.known[key]; ok {
		return hs, nil
	}
	hs, err := g.real.Holders(ctx, process, activity, letter, scope)
	if err == nil {
		g.known[key] = hs
	}
	return hs, err
}

// setupInProcessTransition wires the record kernel and the controls in-process
// as the application does, with the real guard or one that always allows, and
// returns one transition by a client's manager as the operation.
func setupInProcessTransition(ctx context.Context, env *Env, guarded bool) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	ts, err := findTargets(ctx, d, env.Concurrency)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	model, err := framework.Embedded()
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	c := clock.System{}
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	rs := raci.New(d, model, trail, events, c)
	var guard raci.Guard = rs
	if !guarded {
		guard = &allowAll{real: rs, known: map[string][]raci.Holder{}}
	}
	recs := record.New(record.Deps{DB: d, Guard: guard, Gates: record.ActivityGates(rs), Model: model, Trail: trail, Events: events, Clock: c})
	controls.MustNew(controls.Deps{DB: d, Records: recs, Model: model, Clock: c})
	op := func(ctx context.Context, w *Worker) error {
		t := &ts[w.ID]
		// What the server's middleware puts in the context of a request.
		rid := make([]byte, 12)
		_, _ = rand.Read(rid)
		ctx = audit.WithMeta(ctx, audit.Meta{RequestID: hex.EncodeToString(rid), ClientAddr: "127.0.0.1"})
		ctx = auth.WithPrincipal(ctx, &auth.Principal{UserID: t.userID, Username: t.username, TokenID: 1})
		res, err := recs.Perform(ctx, t.number, t.next(), record.PerformInput{Version: t.version})
		if err == nil && res.Outcome == record.OutcomeApplied {
			t.version, t.state = res.Record.Version, res.Record.State
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%s %s: outcome %s", t.next(), t.number, res.Outcome)
		}
		if r, e := recs.Get(ctx, t.number); e == nil {
			t.version, t.state = r.Version, r.State
		}
		return err
	}
	return op, func() { d.Close() }, nil
}
