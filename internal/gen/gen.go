package gen

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// EpochMillis is the fixed moment generated history ends: 2026-01-01T00:00:00Z.
// Every generated timestamp lies in the years before it; none comes from the clock.
const EpochMillis int64 = 1_767_225_600_000

// day is one day in milliseconds.
const day int64 = 24 * 60 * 60 * 1000

// window is how far back generated work records go: two years.
const window = 730 * day

// Config says what to generate.
type Config struct {
	// Scale is N, the organisation's size in incidents (see Plan).
	Scale int
	// Seed picks the organisation; the same seed and scale give the same data.
	Seed uint64
	// Model is the DESMF reference model; nil loads the embedded one.
	Model *framework.Model
	// Clock stamps the run's one audit entry (when the load happened); nil is
	// the system clock. Generated data never reads it.
	Clock clock.Clock
}

// Plan is the organisation's size, derived from the scale N: the number of
// incidents it logs over the two generated years (the largest kind of record
// once the incident generator lands). The ratios follow the ServiceNow incident
// log (about 25,000 incidents, 80 assignment groups, 230 resolvers).
type Plan struct {
	// Scale is N.
	Scale int
	// Users is every account, requesters and staff: N/10 (about five incidents
	// per person per year).
	Users int
	// Staff is the users in assignment groups: N/100.
	Staff int
	// Teams is the assignment groups: N/300.
	Teams int
	// Findings is the monitor-manage-report findings over all processes: N/200.
	Findings int
}

// PlanFor derives the plan of scale n; small scales keep minimums, so that every process has people.
func PlanFor(n int) Plan {
	return Plan{Scale: n, Users: max(20, n/10), Staff: max(8, n/100), Teams: max(3, n/300), Findings: max(10, n/200)}
}

// MaxScale bounds N: beyond it the one-transaction load would need more memory than a server should spend on it.
const MaxScale = 50_000_000

// ParseScale reads a scale such as 1000, 100k or 1M.
func ParseScale(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		mult, t = 1_000, t[:len(t)-1]
	case strings.HasSuffix(t, "m"), strings.HasSuffix(t, "M"):
		mult, t = 1_000_000, t[:len(t)-1]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > MaxScale/mult {
		return 0, fmt.Errorf("scale %q: want a number of incidents such as 1000, 100k or 1M (at most 50M)", s)
	}
	return n * mult, nil
}

// Generator fills one area of the organisation. Generators run in the order
// Generators lists them, in one transaction, each with its own random source
// seeded from the run's seed and the generator's name, so that adding a
// generator never changes what the others produce.
type Generator struct {
	// Name identifies the generator and seeds its random source.
	Name string
	// Generate writes the area's rows through w.
	Generate func(ctx context.Context, w *World) error
}

// Generators lists every generator, in dependency order: a generator of a
// later issue goes after the ones whose people, teams and rows it uses.
func Generators() []Generator {
	return []Generator{
		{Name: "people", Generate: genPeople},
		{Name: "process-roles", Generate: genProcessRoles},
		{Name: "controls", Generate: genControls},
		{Name: "cmdb", Generate: genCMDB},
		{Name: "assets", Generate: genAssets},
		{Name: "incidents", Generate: genIncidents},
		{Name: "sla", Generate: genSLA},
	}
}

// World is what one run knows while it generates: the plan, the reference
// model, the rows written so far, and the people, teams and role holders that
// later generators build on.
type World struct {
	Plan  Plan
	Model *framework.Model
	// R is the running generator's own random source.
	R *rand.Rand

	seed  uint64
	out   *bulk
	ids   map[string]int64
	roles map[string]int64 // platform role ids by name

	users []user
	staff []int // indexes into users
	teams []team
	// holders are the unscoped role holders per process code.
	holders map[string]*processHolders
}

// user is a generated account.
type user struct {
	id       int64
	username string
	disabled bool
	teams    []int
}

// team is a generated assignment group.
type team struct {
	id      int64
	name    string
	members []int
}

// processHolders are the users who hold a role of one process without a scope.
type processHolders struct {
	owner      int
	managers   []int
	analysts   []int
	developers []int
}

// nextID hands out the next id of a table; ids follow the rows already there.
func (w *World) nextID(table string) int64 {
	w.ids[table]++
	return w.ids[table]
}

// add queues one row (see tableSpecs for the columns).
func (w *World) add(table string, vals ...any) error { return w.out.add(table, vals...) }

// Summary is what a run loaded and how long it took.
type Summary struct {
	Plan Plan
	Seed uint64
	// Rows counts the rows written per table.
	Rows map[string]int64
	// Total is the sum of Rows.
	Total int64
	// Elapsed is the whole run, from the emptiness check to the commit.
	Elapsed time.Duration
	// Steps are the generators' own times, in order.
	Steps []Step
}

// Step is one generator's share of a run.
type Step struct {
	Name    string
	Rows    int64
	Elapsed time.Duration
}

// RowsPerSec is the load rate of the run.
func (s Summary) RowsPerSec() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Total) / s.Elapsed.Seconds()
}

// Tables lists the tables with rows, in load order.
func (s Summary) Tables() []string {
	var out []string
	for _, spec := range tableSpecs() {
		if s.Rows[spec[0]] > 0 {
			out = append(out, spec[0])
		}
	}
	return out
}

// ErrNotEmpty is returned when the database already holds an organisation.
var ErrNotEmpty = errors.New("the database already holds an organisation")

// Actor is who the run's audit entry names.
const Actor = "system:gen"

// Run generates the organisation of cfg into d, a migrated database that holds
// no organisation yet (administrators may exist): all rows, and one audit entry
// that summarises them, commit in one transaction. It writes straight into the
// tables with multi-row INSERTs, exactly the rows the services would write,
// with the incidents' audit history but no other per-row audit entries, and no
// outbox events.
func Run(ctx context.Context, d *db.DB, cfg Config) (sum Summary, err error) {
	defer errs.Wrap(&err, "generate scale %d seed %d", cfg.Scale, cfg.Seed)
	start := time.Now()
	if cfg.Scale < 1 || cfg.Scale > MaxScale {
		return sum, fmt.Errorf("scale %d: want 1 to %d", cfg.Scale, MaxScale)
	}
	if cfg.Model == nil {
		if cfg.Model, err = framework.Embedded(); err != nil {
			return sum, err
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if err := checkEmpty(ctx, d); err != nil {
		return sum, err
	}
	trail := audit.NewTrail(cfg.Clock)
	// The built-in platform roles, which staff accounts get; a no-op when the app created them.
	as := auth.NewService(d, trail, outbox.New(cfg.Clock, nil), cfg.Clock, auth.NewHasher(1), auth.Config{})
	if err := as.EnsureDefaultRoles(ctx); err != nil {
		return sum, err
	}
	w := &World{Plan: PlanFor(cfg.Scale), Model: cfg.Model, seed: cfg.Seed, ids: map[string]int64{},
		roles: map[string]int64{}, holders: map[string]*processHolders{}}
	sum = Summary{Plan: w.Plan, Seed: cfg.Seed}
	if err := w.readStart(ctx, d); err != nil {
		return sum, err
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		w.out = newBulk(ctx, tx)
		for _, g := range Generators() {
			t0, before := time.Now(), w.out.total()
			w.R = rand.New(rand.NewPCG(cfg.Seed, streamOf(g.Name)))
			if err := g.Generate(ctx, w); err != nil {
				return fmt.Errorf("generator %s: %w", g.Name, err)
			}
			if err := w.out.flush(); err != nil {
				return fmt.Errorf("generator %s: %w", g.Name, err)
			}
			sum.Steps = append(sum.Steps, Step{Name: g.Name, Rows: w.out.total() - before, Elapsed: time.Since(t0)})
		}
		if err := fixSequences(ctx, tx, w.out.written); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "scale", New: cfg.Scale}, {Field: "seed", New: strconv.FormatUint(cfg.Seed, 10)}}
		for _, spec := range tableSpecs() {
			if n := w.out.written[spec[0]]; n > 0 {
				changes = append(changes, audit.Change{Field: spec[0], New: n})
			}
		}
		actx := audit.WithActor(ctx, audit.Actor{Type: "system", Name: Actor})
		trail.Record(actx, tx, audit.Entry{Action: "gen.load", ObjectType: "organisation",
			ObjectID: fmt.Sprintf("scale %d seed %d", cfg.Scale, cfg.Seed), Changes: changes})
		return nil
	})
	if err != nil {
		return sum, err
	}
	if d.Engine() == db.Postgres {
		// Fresh planner statistics, as autovacuum would have them on a database that grew slowly.
		if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
			return sum, fmt.Errorf("analyze: %w", err)
		}
	}
	sum.Rows = w.out.written
	sum.Total = w.out.total()
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// streamOf is the random stream of a generator: a hash of its name.
func streamOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// total is the rows written so far.
func (b *bulk) total() int64 {
	var n int64
	for _, v := range b.written {
		n += v
	}
	return n
}

// checkEmpty refuses a database that already holds people other than
// administrators, teams, role assignments or records: generated data is never
// mixed into a real (or an earlier generated) organisation.
func checkEmpty(ctx context.Context, d *db.DB) error {
	var users, teams, assignments, records int64
	if err := d.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE NOT is_admin), (SELECT COUNT(*) FROM teams),
		(SELECT COUNT(*) FROM raci_assignments), (SELECT COUNT(*) FROM records)`).Scan(&users, &teams, &assignments, &records); err != nil {
		return fmt.Errorf("check the database is empty: %w", err)
	}
	if users+teams+assignments+records > 0 {
		return fmt.Errorf("%w (%d users besides administrators, %d teams, %d role assignments, %d records): "+
			"generate into a fresh database", ErrNotEmpty, users, teams, assignments, records)
	}
	return nil
}

// readStart reads where ids continue and the platform roles' ids.
func (w *World) readStart(ctx context.Context, d *db.DB) error {
	for _, t := range []string{"users", "teams", "raci_assignments", "records", "record_journal", "record_steps", "control_actions"} {
		var n int64
		if err := d.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+t).Scan(&n); err != nil {
			return fmt.Errorf("read the last id of %s: %w", t, err)
		}
		w.ids[t] = n
	}
	rows, err := d.QueryContext(ctx, `SELECT id, name FROM roles`)
	if err != nil {
		return fmt.Errorf("read platform roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		w.roles[name] = id
	}
	return rows.Err()
}

// fixSequences moves PostgreSQL's identity sequences past the ids the run
// chose, so that the services' next INSERT gets a free id. SQLite needs nothing.
func fixSequences(ctx context.Context, tx *db.Tx, written map[string]int64) error {
	if tx.Engine() != db.Postgres {
		return nil
	}
	for _, t := range []string{"users", "teams", "raci_assignments", "records", "record_journal", "record_steps", "control_actions"} {
		if written[t] == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
			return fmt.Errorf("advance the id sequence of %s: %w", t, err)
		}
	}
	return nil
}
