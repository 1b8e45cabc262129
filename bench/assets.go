package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
)

// The asset scenarios run on the register the generator's assets step writes
// (internal/gen/assets.go): about 0.28 N assets at scale N (27,463 at scale
// small), most of them deployed hardware, about 0.65 N software
// installations and the licences of their products.

// assetsList is the list the assets.list scenario reads: the first page (50) of the deployed hardware, newest first.
const assetsList = "/api/v1/assets?kind=hardware&state=deployed"

// assetScenarios measure the asset list, the licence compliance report and the creation of assets.
func assetScenarios() []Scenario {
	return []Scenario{
		{
			Name:  "assets.list",
			Phase: Online,
			Measures: "GET " + assetsList + ", the first page (50, newest first) of the deployed hardware: the count and the page " +
				"of records joined with their asset rows, then each asset's details, CI, user and location names, JSON.",
			Setup: setupAssetGet(assetsList, "deployed hardware assets"),
		},
		{
			Name:  "assets.compliance",
			Phase: Online,
			Measures: "GET /api/v1/assets/licence-compliance: every licence and every software installation (with its host's " +
				"state and user) read and set against each other per product.",
			Setup: setupAssetGet("/api/v1/assets/licence-compliance", "products"),
		},
		{
			Name:  "assets.create",
			Phase: Online,
			Measures: "POST /api/v1/assets of a laptop with a unique tag, assigned to its recorder, by a generated AM process analyst's " +
				"token: the RACI guard (R for AM2), the tag and user checks, the record, its asset row, journal, audit and outbox.",
			Setup: setupAssetCreate,
		},
	}
}

// assetNote prints a scenario's note where bench prints its progress.
func assetNote(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

// setupAssetGet checks once that path answers, notes the size of what it reads, and returns the GET as the operation.
func setupAssetGet(path, what string) func(ctx context.Context, env *Env) (Op, func(), error) {
	return func(ctx context.Context, env *Env) (Op, func(), error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.BaseURL+path, nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+env.Token)
		resp, err := env.HTTP.Do(req)
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
		}
		var body struct {
			Items         []json.RawMessage `json:"items"`
			Compliant     int               `json:"compliant"`
			UnderLicensed int               `json:"underLicensed"`
			OverLicensed  int               `json:"overLicensed"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, nil, fmt.Errorf("GET %s: %w", path, err)
		}
		if len(body.Items) == 0 {
			return nil, nil, fmt.Errorf("GET %s: no %s (was the organisation generated with its assets?)", path, what)
		}
		if total := resp.Header.Get("X-Total-Count"); total != "" {
			assetNote("%s %s: %s %s, a page of %d (%d bytes)", env.Engine, path, total, what, len(body.Items), len(b))
		} else {
			assetNote("%s %s: %d %s (%d compliant, %d under-licensed, %d over-licensed; %d bytes)", env.Engine, path, len(body.Items), what,
				body.Compliant, body.UnderLicensed, body.OverLicensed, len(b))
		}
		return func(ctx context.Context, w *Worker) error {
			return env.Call(ctx, http.MethodGet, path, nil, http.StatusOK)
		}, nil, nil
	}
}

// amAnalyst is a generated holder of the unscoped AM process-analyst role, with a token.
type amAnalyst struct {
	id    int64
	token string
}

// setupAssetCreate gives every client the token of a generated AM analyst (R for AM2), one per analyst.
func setupAssetCreate(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	rows, err := d.QueryContext(ctx, `SELECT u.id, u.username FROM raci_assignments a JOIN users u ON u.id = a.user_id AND NOT u.disabled
		WHERE a.subject = 'AM' AND a.role = 'process-analyst' AND a.scope_team_id IS NULL ORDER BY a.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("find the AM analysts: %w", err)
	}
	type holder struct {
		id   int64
		name string
	}
	var hs []holder
	for rows.Next() {
		var h holder
		if err := rows.Scan(&h.id, &h.name); err != nil {
			rows.Close()
			return nil, nil, err
		}
		hs = append(hs, h)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	if len(hs) == 0 {
		return nil, nil, fmt.Errorf("no generated AM process analyst to record assets")
	}
	as := auth.NewService(d, audit.NewTrail(clock.System{}), outbox.New(clock.System{}, nil), clock.System{}, auth.NewHasher(1), auth.Config{})
	var people []amAnalyst
	for _, h := range hs {
		secret, _, err := as.CreateToken(audit.WithActor(ctx, audit.Actor{Type: "cli", Name: "cli:bench"}), h.id, "bench "+env.RunID, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("token for %s: %w", h.name, err)
		}
		people = append(people, amAnalyst{id: h.id, token: secret})
	}
	assetNote("%s assets.create: %d AM analysts record the assets", env.Engine, len(people))
	op := func(ctx context.Context, w *Worker) error {
		p := people[w.ID%len(people)]
		tag := strings.ToUpper(fmt.Sprintf("BENCH-%s-%d-%d", env.RunID, w.ID, w.Seq))
		body := fmt.Sprintf(`{"kind":"hardware","assetTag":%q,"serialNumber":"SN-%s","manufacturer":"Dell","model":"Latitude 7440",`+
			`"costMinor":165000,"purchaseDate":"2025-12-01","depreciationMethod":"straight_line","usefulLifeMonths":36,`+
			`"warrantyEnd":"2028-12-01","supplier":"CDW Government","assignedUserId":%d}`, tag, tag, p.id)
		return env.amCall(ctx, p.token, http.MethodPost, "/api/v1/assets", body, http.StatusCreated)
	}
	return op, nil, nil
}

// amCall sends one request with token and fails unless the status is want; it reads the whole body so the connection is reused.
func (env *Env) amCall(ctx context.Context, token, method, path, body string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, env.BaseURL+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	return nil
}
