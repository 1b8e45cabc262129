package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests cover the harness's own logic; they start no server. The
// benchmarks themselves run only through make bench.

func TestParseScale(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"tiny": 1000, "small": 100_000, "100k": 100_000, "1M": 1_000_000, "2500": 2500, "250K": 250_000} {
		got, err := parseScale(in)
		if err != nil || got != want {
			t.Errorf("parseScale(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "big", "-5", "0", "1G", "1000M", "51M"} {
		if _, err := parseScale(in); err == nil {
			t.Errorf("parseScale(%q) succeeded, want an error", in)
		}
	}
}

func TestParseFlagsSmokeDefaults(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-smoke", "-engine", "both", "-concurrency", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.scaleN != 1000 || o.duration != time.Second || o.concurrency != 2 || o.out != "bench/out/smoke.json" {
		t.Errorf("smoke options = %+v; want scale 1000, 1s, the explicit 2 clients, bench/out/smoke.json", o)
	}
	if _, err := parseFlags([]string{"-smoke", "-update-doc"}, io.Discard); err == nil {
		t.Error("-smoke -update-doc accepted; smoke figures must not reach the document")
	}
	if _, err := parseFlags([]string{"-engine", "mysql"}, io.Discard); err == nil {
		t.Error("-engine mysql accepted")
	}
}

func TestSelectScenarios(t *testing.T) {
	t.Parallel()
	all := []Scenario{{Name: "platform.get"}, {Name: "platform.write"}, {Name: "platform.write.storage-limit"}, {Name: "incident.create"}}
	names := func(ss []Scenario) string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	for filter, want := range map[string]string{
		"":                              "platform.get,platform.write,platform.write.storage-limit,incident.create",
		"platform.write":                "platform.write",
		"platform.write*":               "platform.write,platform.write.storage-limit",
		"incident.*, platform.get":      "platform.get,incident.create",
		"platform.write.storage-limit,": "",
	} {
		got, err := selectScenarios(all, filter)
		if want == "" {
			if err == nil {
				t.Errorf("selectScenarios(%q) succeeded, want an error for the empty name", filter)
			}
			continue
		}
		if err != nil || names(got) != want {
			t.Errorf("selectScenarios(%q) = %s, %v; want %s", filter, names(got), err, want)
		}
	}
	if _, err := selectScenarios(all, "nope"); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}

func TestRegistryNamesAreUniqueAndLimitsExist(t *testing.T) {
	t.Parallel()
	seen := map[string]Scenario{}
	for _, s := range registry() {
		if _, dup := seen[s.Name]; dup {
			t.Errorf("scenario %s registered twice", s.Name)
		}
		if s.Setup == nil || s.Measures == "" {
			t.Errorf("scenario %s lacks Setup or Measures", s.Name)
		}
		seen[s.Name] = s
	}
	for _, s := range seen {
		if l, ok := seen[s.Limit]; s.Limit != "" && (!ok || l.Phase != Offline) {
			t.Errorf("scenario %s names limit %q, which is not a registered offline scenario", s.Name, s.Limit)
		}
	}
}

func TestRunLoadCountsAndQuantiles(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	op := func(ctx context.Context, w *Worker) error {
		if calls.Add(1)%10 == 0 {
			return errors.New("every tenth fails")
		}
		return nil
	}
	st := runLoad(context.Background(), Drive{Concurrency: 4, Warmup: 10 * time.Millisecond, Count: 1000}, 1, op)
	if st.Ops != 1000 {
		t.Errorf("Ops = %d, want exactly the 1000 asked for", st.Ops)
	}
	if st.Errors < 90 || st.Errors > 110 || st.FirstError == nil {
		t.Errorf("Errors = %d (first %v), want about 100", st.Errors, st.FirstError)
	}
	if st.OpsPerSec() <= 0 || st.Max() < st.Quantile(0.99) || st.Quantile(0.99) < st.Quantile(0.5) {
		t.Errorf("inconsistent stats: %v ops/s, p50 %v, p99 %v, max %v", st.OpsPerSec(), st.Quantile(.5), st.Quantile(.99), st.Max())
	}
}

func TestQuantileNearestRank(t *testing.T) {
	t.Parallel()
	var st Stats
	for i := 1; i <= 100; i++ {
		st.Latencies = append(st.Latencies, time.Duration(i)*time.Millisecond)
	}
	if st.Quantile(0.5) != 50*time.Millisecond || st.Quantile(0.99) != 99*time.Millisecond || st.Max() != 100*time.Millisecond {
		t.Errorf("p50 %v p99 %v max %v; want 50ms 99ms 100ms", st.Quantile(0.5), st.Quantile(0.99), st.Max())
	}
	if (Stats{}).Quantile(0.5) != 0 {
		t.Error("empty stats have a non-zero quantile")
	}
}

func TestFillFractionsMatchesEngine(t *testing.T) {
	t.Parallel()
	rs := []Result{
		{Scenario: "w", Engine: "sqlite", OpsPerSec: 600, Limit: "l"},
		{Scenario: "w", Engine: "postgres", OpsPerSec: 300, Limit: "l"},
		{Scenario: "l", Engine: "sqlite", OpsPerSec: 1000},
		{Scenario: "l", Engine: "postgres", OpsPerSec: 1200},
	}
	fillFractions(rs)
	if rs[0].FractionOfLimit == nil || *rs[0].FractionOfLimit != 0.6 || rs[1].FractionOfLimit == nil || *rs[1].FractionOfLimit != 0.25 {
		t.Errorf("fractions = %v, %v; want 0.6 and 0.25", rs[0].FractionOfLimit, rs[1].FractionOfLimit)
	}
	if rs[2].FractionOfLimit != nil {
		t.Error("a limit got a fraction of itself")
	}
}

func TestReplaceResults(t *testing.T) {
	t.Parallel()
	intro := "# B\n\nThe table sits between `" + markerStart + "` and `" + markerEnd + "`.\n\n"
	doc := intro + markerStart + "\nold table\n" + markerEnd + "\n\nafter\n"
	got, err := replaceResults(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	want := intro + markerStart + "\nnew table\n" + markerEnd + "\n\nafter\n"
	if got != want {
		t.Errorf("replaceResults:\n%s\nwant:\n%s", got, want)
	}
	if _, err := replaceResults("no markers", "x"); err == nil {
		t.Error("a document without markers was accepted")
	}
}

func TestMarkdownTable(t *testing.T) {
	t.Parallel()
	rss, frac, cpu := 31.5, 0.62, 1.1
	r := Report{
		Machine:  Machine{Cores: 2, MemoryGiB: "23.5 GiB", GoVersion: "go1.26.8", Date: "2026-01-02T03:04:05Z", Postgres: "PostgreSQL 15, fsync=off"},
		Settings: Settings{Scale: "small", ScaleN: 100_000, Seed: 1, Concurrency: 16, WarmupS: 2, DurationS: 10},
		Loads:    []Load{{Engine: "sqlite", Rows: 21_000, Seconds: 0.2, RowsPerSec: 105_000, Tables: map[string]int64{"users": 10_000, "teams": 333}}},
		Results: []Result{{Scenario: "platform.write", Engine: "sqlite", OpsPerSec: 1234.4, P50Ms: 1, P99Ms: 2, MaxMs: 3,
			ServerPeakRSSMB: &rss, ServerCPUCores: &cpu, BenchCPUCores: 0.5, FractionOfLimit: &frac}},
	}
	md := markdown(r)
	for _, want := range []string{"| platform.write | sqlite | 1234 |", "| 32 |", "1.10 / 0.50 / – / 0.00", "62 %", "fsync=off", "10s measured",
		"N = 100000, 10000 users, 333 teams", "Generated on sqlite: 21000 rows in 0.20 s, 105000 rows/s"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestParseGen(t *testing.T) {
	t.Parallel()
	out := "generated scale 1000 with seed 1 on sqlite: 2345 rows in 41ms (57195 rows/s)\n" +
		"  users                           100\n  teams                             3\n" +
		"  generator people                 150 rows in 3ms\n"
	l, err := parseGen("sqlite", out)
	if err != nil || l.Rows != 2345 || l.Seconds != 0.041 || l.Tables["users"] != 100 || l.Tables["teams"] != 3 || len(l.Tables) != 2 {
		t.Errorf("parseGen = %+v, %v", l, err)
	}
	if _, err := parseGen("sqlite", "nothing useful"); err == nil {
		t.Error("parseGen accepted output without a summary")
	}
}

func TestGuardCosts(t *testing.T) {
	t.Parallel()
	db := 0.5
	rs := []Result{
		{Scenario: "kernel.transition.guarded.in-process", Engine: "postgres", OpsPerSec: 1000, BenchCPUCores: 0.5, DBCPUCores: &db, P50Ms: 10},
		{Scenario: "kernel.transition.unguarded", Engine: "postgres", OpsPerSec: 1250, BenchCPUCores: 0.5, DBCPUCores: &db, P50Ms: 8},
		{Scenario: "kernel.transition.unguarded", Engine: "sqlite", OpsPerSec: 2000, BenchCPUCores: 1},
	}
	got := guardCosts(rs)
	// Guarded: 1 core / 1000 ops = 1000 µs; unguarded: 1 core / 1250 ops = 800 µs.
	if len(got) != 1 || !strings.HasPrefix(got[0], "postgres: 200 µs of CPU per transition (1000 guarded, 800 unguarded), 20 %") ||
		!strings.Contains(got[0], "(-20 %)") {
		t.Errorf("guardCosts = %q", got)
	}
}
