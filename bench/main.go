// Command bench measures Steward: for each engine it starts the real server as
// a child process on a fresh database, seeds it, drives each registered scenario
// with concurrent clients, then measures the storage's own limit with the server
// stopped. It writes bench/results.json, prints a Markdown table and, with
// -update-doc, rewrites the results section of docs/benchmarks.md.
//
//	go run ./bench -bin bin/steward -engine both -scale small -duration 10s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"steward/internal/gen"
	"steward/internal/platform/db"
)

// options are the command-line flags.
type options struct {
	bin         string
	engine      string
	scale       string
	scaleN      int
	seed        uint64
	duration    time.Duration
	warmup      time.Duration
	count       int64
	concurrency int
	scenarios   string
	pgURL       string
	pgScript    string
	out         string
	doc         string
	updateDoc   bool
	smoke       bool
	keep        bool
	workDir     string
	list        bool
	waitIdle    time.Duration
	from        string
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "bin/steward", "the steward binary to benchmark")
	fs.StringVar(&o.engine, "engine", "sqlite", "sqlite, postgres or both")
	fs.StringVar(&o.scale, "scale", "small", "the generated organisation's size N in incidents: tiny (1,000), small (100,000: 10,000 users), 1M, or a number such as 250k")
	fs.Uint64Var(&o.seed, "seed", 1, "the generator's seed")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unrecorded warm-up per scenario")
	fs.Int64Var(&o.count, "count", 0, "measure this many operations per scenario instead of a -duration")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	fs.StringVar(&o.scenarios, "scenarios", "", `comma-separated scenario names or prefixes ending in "*" (default all; see -list)`)
	fs.StringVar(&o.pgURL, "pg-url", "", "PostgreSQL server to create the benchmark database in (default: start a throwaway one)")
	fs.StringVar(&o.pgScript, "pg-script", "scripts/testpg.sh", "script that starts the throwaway PostgreSQL")
	fs.StringVar(&o.out, "out", "bench/results.json", "where to write the results (-smoke: bench/out/smoke.json)")
	fs.StringVar(&o.doc, "doc", "docs/benchmarks.md", "document whose results section -update-doc rewrites")
	fs.BoolVar(&o.updateDoc, "update-doc", false, "rewrite the results section of -doc with this run's figures")
	fs.BoolVar(&o.smoke, "smoke", false, "prove the harness works: scale tiny, 4 clients, 1s per scenario, no -wait-idle")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directories and databases afterwards")
	fs.StringVar(&o.workDir, "work-dir", "", "where to create data directories (default: the system temp directory)")
	fs.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	fs.StringVar(&o.from, "from", "", "run nothing: print (and with -update-doc, write) the figures of an earlier results file")
	fs.DurationVar(&o.waitIdle, "wait-idle", 10*time.Second, "before each scenario, wait up to this long for the machine to go quiet (below a quarter core busy); 0 skips")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.smoke {
		if o.updateDoc {
			return nil, errors.New("-smoke figures do not belong in the document; drop -update-doc")
		}
		defaults := map[string]func(){
			"scale": func() { o.scale = "tiny" }, "duration": func() { o.duration = time.Second },
			"warmup": func() { o.warmup = 300 * time.Millisecond }, "concurrency": func() { o.concurrency = 4 },
			"out": func() { o.out = "bench/out/smoke.json" }, "wait-idle": func() { o.waitIdle = 0 },
		}
		for name, apply := range defaults {
			if !set[name] {
				apply()
			}
		}
	}
	n, err := parseScale(o.scale)
	if err != nil {
		return nil, err
	}
	o.scaleN = n
	switch o.engine {
	case "sqlite", "postgres", "both":
	default:
		return nil, fmt.Errorf("-engine %q: want sqlite, postgres or both", o.engine)
	}
	if o.concurrency < 1 || o.duration <= 0 && o.count <= 0 || o.warmup < 0 {
		return nil, errors.New("-concurrency must be ≥ 1, -warmup ≥ 0, and -duration or -count positive")
	}
	return o, nil
}

// parseScale turns a scale name or number into the generator's scale N.
func parseScale(s string) (int, error) {
	switch strings.ToLower(s) {
	case "tiny":
		return 1_000, nil
	case "small":
		return 100_000, nil
	}
	n, err := gen.ParseScale(s)
	if err != nil {
		return 0, fmt.Errorf("-scale %q: want tiny, small, 100k, 1M or a number such as 250k", s)
	}
	return n, nil
}

func (o *options) engines() []string {
	if o.engine == "both" {
		return []string{"sqlite", "postgres"}
	}
	return []string{o.engine}
}

func run(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	all := registry()
	if o.list {
		for _, s := range all {
			fmt.Fprintf(stdout, "%-38s %s\n", s.Name, s.Measures)
		}
		return nil
	}
	if o.from != "" {
		rep, err := readReport(o.from)
		if err != nil {
			return err
		}
		return report(o, rep, stdout, stderr)
	}
	scs, err := selectScenarios(all, o.scenarios)
	if err != nil {
		return err
	}
	bin, err := absBin(o.bin)
	if err != nil {
		return err
	}
	o.bin = bin
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }
	rep := Report{Machine: describeMachine(), Settings: Settings{
		Scale: o.scale, ScaleN: o.scaleN, Seed: o.seed, Concurrency: o.concurrency, WarmupS: o.warmup.Seconds(), Smoke: o.smoke,
	}}
	if o.count > 0 {
		rep.Settings.Count = o.count
	} else {
		rep.Settings.DurationS = o.duration.Seconds()
	}
	if v, err := (&server{bin: bin}).cli(ctx, "", "version"); err == nil {
		rep.Machine.Steward = strings.TrimSpace(v)
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)

	var pg *pgServer
	defer func() {
		if pg != nil {
			pg.stop()
		}
	}()
	for _, engine := range o.engines() {
		if engine == "postgres" && pg == nil {
			if o.pgURL != "" {
				pg = &pgServer{URL: o.pgURL}
			} else {
				logf("starting a throwaway PostgreSQL with %s", o.pgScript)
				if pg, err = startPG(ctx, o.pgScript); err != nil {
					return err
				}
			}
			rep.Machine.Postgres = pg.settings(ctx)
			if !pg.findPostmaster(ctx) {
				logf("PostgreSQL does not run on this machine (or is not visible): its CPU use counts as other")
			}
		}
		rs, load, err := runEngine(ctx, o, engine, runID, pg, scs, logf)
		if load != nil {
			rep.Loads = append(rep.Loads, *load)
		}
		rep.Results = append(rep.Results, rs...)
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
	}
	fillFractions(rep.Results)
	if err := writeJSON(o.out, rep); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	logf("wrote %s", o.out)
	return report(o, rep, stdout, stderr)
}

// report prints rep as a Markdown table, rewrites the document when asked, and
// fails when operations failed in a smoke run.
func report(o *options, rep Report, stdout, stderr io.Writer) error {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }
	fmt.Fprintln(stdout, markdown(rep))
	if o.updateDoc {
		if rep.Settings.Smoke {
			return errors.New("-smoke figures do not belong in the document")
		}
		if err := updateDoc(o.doc, rep); err != nil {
			return fmt.Errorf("update doc: %w", err)
		}
		logf("updated the results section of %s", o.doc)
	}
	var failed, disturbed []string
	for _, r := range rep.Results {
		if r.Errors > 0 || r.Ops == 0 {
			failed = append(failed, r.Engine+" "+r.Scenario)
		}
		if r.disturbed() {
			disturbed = append(disturbed, r.Engine+" "+r.Scenario)
		}
	}
	if len(disturbed) > 0 {
		logf("WARNING: other processes used the CPU during %s; rerun on a quiet machine", strings.Join(disturbed, ", "))
	}
	if len(failed) > 0 {
		msg := fmt.Sprintf("operations failed (or none ran) in: %s", strings.Join(failed, ", "))
		if o.smoke {
			return errors.New(msg)
		}
		logf("WARNING: %s", msg)
	}
	return nil
}

// runEngine runs the selected scenarios on one engine with a fresh database.
func runEngine(ctx context.Context, o *options, engine, runID string, pg *pgServer, scs []Scenario,
	logf func(string, ...any)) (results []Result, load *Load, err error) {
	work, err := os.MkdirTemp(o.workDir, "steward-bench-"+engine+"-")
	if err != nil {
		return nil, nil, err
	}
	if o.keep {
		logf("%s: keeping data in %s", engine, work)
	} else {
		defer os.RemoveAll(work)
	}
	srv := &server{bin: o.bin, dataDir: filepath.Join(work, "data"), logPath: filepath.Join(work, "server.log")}
	store := db.Config{DataDir: srv.dataDir}
	if engine == "postgres" {
		name := "bench_" + runID
		if srv.dbURL, err = pg.createDatabase(ctx, name); err != nil {
			return nil, nil, err
		}
		if o.keep {
			logf("%s: keeping database %s", engine, name)
		} else {
			defer func() {
				if e := pg.dropDatabase(context.WithoutCancel(ctx), name); e != nil {
					logf("%s: drop database %s: %v", engine, name, e)
				}
			}()
		}
		store = db.Config{URL: srv.dbURL}
	}

	if err := srv.migrate(ctx); err != nil {
		return nil, nil, err
	}
	l, err := srv.generate(ctx, engine, o.scaleN, o.seed)
	if err != nil {
		return nil, nil, err
	}
	load = &l
	logf("%s: generated scale %d (%d users, %d teams, %d role assignments, %d records): %d rows in %.2fs, %.0f rows/s",
		engine, o.scaleN, l.Tables["users"], l.Tables["teams"], l.Tables["raci_assignments"], l.Tables["records"], l.Rows, l.Seconds, l.RowsPerSec)
	ids, err := teamIDs(ctx, store)
	if err != nil {
		return nil, load, err
	}
	token, err := srv.createToken(ctx)
	if err != nil {
		return nil, load, err
	}
	env := &Env{Engine: engine, RunID: runID, Concurrency: o.concurrency, Token: token, Store: store, TeamIDs: ids}
	if engine == "postgres" && pg.pid != 0 {
		env.DBServer = pg
	}
	drive := Drive{Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration, Count: o.count}
	for _, sc := range scs {
		if sc.Prepare != nil {
			if err := sc.Prepare(ctx, env); err != nil {
				return nil, load, fmt.Errorf("%s: prepare: %w", sc.Name, err)
			}
		}
	}

	if hasPhase(scs, Online) {
		if err := srv.start(ctx); err != nil {
			return nil, load, err
		}
		defer srv.stop()
		env.BaseURL, env.HTTP = srv.baseURL(), newHTTPClient(o.concurrency)
		for _, sc := range scs {
			if sc.Phase != Online {
				continue
			}
			waitIdle(ctx, o.waitIdle, logf)
			if !srv.resetPeakRSS() {
				logf("%s: cannot reset the server's peak RSS; figures are peaks since start", engine)
			}
			r, err := runScenario(ctx, sc, env, drive, o.scale, srv, logf)
			if err != nil {
				return results, load, err
			}
			if rss, err := srv.peakRSSMB(); err == nil {
				rss = round(rss, 1)
				r.ServerPeakRSSMB = &rss
			}
			results = append(results, r)
		}
		env.HTTP.CloseIdleConnections()
		if err := srv.stop(); err != nil {
			return results, load, err
		}
		env.BaseURL, env.HTTP = "", nil
	}
	for _, sc := range scs {
		if sc.Phase != Offline {
			continue
		}
		waitIdle(ctx, o.waitIdle, logf)
		r, err := runScenario(ctx, sc, env, drive, o.scale, nil, logf)
		if err != nil {
			return results, load, err
		}
		results = append(results, r)
	}
	return results, load, nil
}

func hasPhase(scs []Scenario, p Phase) bool {
	for _, s := range scs {
		if s.Phase == p {
			return true
		}
	}
	return false
}

// runScenario sets up one scenario, drives it and turns the stats into a result.
// srv, when not nil, is the running server whose CPU use is measured too.
func runScenario(ctx context.Context, sc Scenario, env *Env, load Drive, scale string, srv *server,
	logf func(string, ...any)) (Result, error) {
	env.takeNotes()
	op, release, err := sc.Setup(ctx, env)
	if err != nil {
		return Result{}, fmt.Errorf("%s: set up: %w", sc.Name, err)
	}
	if sc.Clients > 0 {
		load.Concurrency = sc.Clients
	}
	if sc.Runs > 0 {
		load.Count, load.Warmup = sc.Runs, 0
	}
	if release != nil {
		defer release()
	}
	meter := &cpuMeter{}
	if srv != nil {
		meter.server = srv.cpuTime
	}
	if env.DBServer != nil {
		meter.db = env.DBServer.cpuTime
	}
	load.Mark = meter.mark
	st := runLoad(ctx, load, uint64(time.Now().UnixNano()), op)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	r := newResult(sc, env.Engine, scale, load.Concurrency, st)
	meter.fill(&r, st.Elapsed)
	r.Notes = env.takeNotes()
	logf("%s %-38s %8.0f ops/s  p50 %6.2f ms  p99 %7.2f ms  max %8.2f ms  errors %d  cpu %s",
		env.Engine, sc.Name, r.OpsPerSec, r.P50Ms, r.P99Ms, r.MaxMs, r.Errors, r.cpuSummary())
	if st.FirstError != nil {
		logf("%s %s: first error: %v", env.Engine, sc.Name, st.FirstError)
	}
	return r, nil
}
