package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"steward/internal/platform/db"
)

// Phase says when a scenario runs in the life of the server under test.
type Phase int

const (
	// Online scenarios drive the running server over HTTP.
	Online Phase = iota
	// Offline scenarios run in-process against the database after the server has
	// stopped, so that they measure the storage alone.
	Offline
)

// Scenario is one named measurement: how to prepare it and what one operation is.
type Scenario struct {
	// Name is the dotted name reported in the results, such as "platform.get".
	Name string
	// Phase says whether the scenario needs the server running or stopped.
	Phase Phase
	// Measures is one sentence for -list and the documentation.
	Measures string
	// Limit, when set, names the offline scenario whose ops/s is this
	// scenario's ceiling (the same work without the server); the results then
	// carry fraction_of_limit.
	Limit string
	// Setup prepares the scenario against env and returns the operation that the
	// clients repeat, and a function that releases what Setup acquired (or nil).
	Setup func(ctx context.Context, env *Env) (Op, func(), error)
	// Prepare, when set, runs once per engine after the organisation is
	// generated and before the server starts (the SLA clocks are computed
	// then); it must be idempotent, as scenarios may share it.
	Prepare func(ctx context.Context, env *Env) error
	// Clients, when set, runs the scenario with this many clients instead of
	// -concurrency: an operation that is a whole batch job runs alone.
	Clients int
	// Runs, when set, measures exactly this many operations with no warm-up
	// instead of a -duration or -count.
	Runs int64
}

// Op performs one operation as client w. A returned error counts as a failed operation.
type Op func(ctx context.Context, w *Worker) error

// Worker is one load-generating client's private state; no two clients share one.
type Worker struct {
	// ID numbers the client from 0.
	ID int
	// Seq counts the operations this client started, warm-up included.
	Seq int64
	// Rand is the client's own random source.
	Rand *rand.Rand
}

// Env is what scenarios get to work with for one engine.
type Env struct {
	// Engine is "sqlite" or "postgres".
	Engine string
	// RunID is unique per run, for names that must not collide with earlier runs.
	RunID string
	// Concurrency is how many clients run at once.
	Concurrency int
	// BaseURL is the running server's root, such as http://127.0.0.1:40123; empty offline.
	BaseURL string
	// Token is the benchmark administrator's bearer token.
	Token string
	// HTTP is a keep-alive client sized for Concurrency.
	HTTP *http.Client
	// Store opens the same database as the server's.
	Store db.Config
	// TeamIDs are the ids of the generated teams.
	TeamIDs []int64
	// DBServer is the local PostgreSQL server whose CPU use is measured, or nil.
	DBServer *pgServer

	notesMu sync.Mutex
	notes   map[string]float64
}

// Note records a figure of the running scenario beyond latency and
// throughput (records/s, duplicates …); it lands in the result's notes.
func (env *Env) Note(name string, v float64) {
	env.notesMu.Lock()
	defer env.notesMu.Unlock()
	if env.notes == nil {
		env.notes = map[string]float64{}
	}
	env.notes[name] = v
}

// takeNotes returns the figures noted since the last call and forgets them.
func (env *Env) takeNotes() map[string]float64 {
	env.notesMu.Lock()
	defer env.notesMu.Unlock()
	n := env.notes
	env.notes = nil
	return n
}

// registry lists every scenario bench knows, in the order they run (online ones
// first, while the server is up). Later issues add their scenarios in files of
// their own and list the function that returns them here.
func registry() []Scenario {
	return slices.Concat(
		platformScenarios(),
		kernelScenarios(),
		cmdbScenarios(),
		assetScenarios(),
		incidentScenarios(),
		slaScenarios(),
		storageScenarios(),
	)
}

// selectScenarios keeps the scenarios that filter names: a comma-separated list
// of exact names or prefixes ending in "*" ("platform.*"); empty keeps all. The
// registry's order is kept, so that limits still run after what they bound.
func selectScenarios(all []Scenario, filter string) ([]Scenario, error) {
	if strings.TrimSpace(filter) == "" {
		return all, nil
	}
	keep := map[string]bool{}
	for _, f := range strings.Split(filter, ",") {
		f = strings.TrimSpace(f)
		prefix, wild := strings.CutSuffix(f, "*")
		n := 0
		for _, s := range all {
			if s.Name == f || wild && strings.HasPrefix(s.Name, prefix) {
				keep[s.Name] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("-scenarios: no scenario matches %q (see -list)", f)
		}
	}
	var out []Scenario
	for _, s := range all {
		if keep[s.Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

// platformScenarios are the kernel's baseline: one point read and one audited write.
func platformScenarios() []Scenario {
	return []Scenario{
		{
			Name:     "platform.get",
			Phase:    Online,
			Measures: "GET /api/v1/teams/{id} of a random generated team: token check, permission load, one point read and the team's members.",
			Setup: func(ctx context.Context, env *Env) (Op, func(), error) {
				if len(env.TeamIDs) == 0 {
					return nil, nil, fmt.Errorf("no generated teams to read")
				}
				return func(ctx context.Context, w *Worker) error {
					id := env.TeamIDs[w.Rand.IntN(len(env.TeamIDs))]
					return env.Call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/teams/%d", id), nil, http.StatusOK)
				}, nil, nil
			},
		},
		{
			Name:     "platform.write",
			Phase:    Online,
			Limit:    "platform.write.storage-limit",
			Measures: "POST /api/v1/teams with a unique name: one transaction that inserts the team, appends the hash-chained audit entry and emits the outbox event.",
			Setup: func(ctx context.Context, env *Env) (Op, func(), error) {
				return func(ctx context.Context, w *Worker) error {
					body := fmt.Sprintf(`{"name":%q}`, teamName(env.RunID, "http", w))
					return env.Call(ctx, http.MethodPost, "/api/v1/teams", []byte(body), http.StatusCreated)
				}, nil, nil
			},
		},
	}
}

// teamName is a team name that no other operation of any run uses.
func teamName(runID, kind string, w *Worker) string {
	return fmt.Sprintf("bench-%s-%s-%d-%d", runID, kind, w.ID, w.Seq)
}

// Call sends one authenticated request to the server and fails unless the
// response has status want. It reads the whole body so the connection is reused.
func (env *Env) Call(ctx context.Context, method, path string, body []byte, want int) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, env.BaseURL+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+env.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, bytes.TrimSpace(b))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// newHTTPClient returns a keep-alive client that holds a connection per client.
func newHTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = concurrency * 2
	t.MaxIdleConnsPerHost = concurrency * 2
	t.DisableCompression = true
	t.Proxy = nil
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}
