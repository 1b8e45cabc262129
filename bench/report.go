package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Report is the content of bench/results.json.
type Report struct {
	// Machine describes where the figures were measured.
	Machine Machine `json:"machine"`
	// Settings records how the run was driven.
	Settings Settings `json:"settings"`
	// Loads is what "steward gen" loaded on each engine, and how fast.
	Loads []Load `json:"loads,omitempty"`
	// Results holds one object per scenario and engine.
	Results []Result `json:"results"`
}

// Machine describes the host and toolchain of a run.
type Machine struct {
	// Cores is the number of logical CPUs.
	Cores int `json:"cores"`
	// CPU is the processor model from /proc/cpuinfo.
	CPU string `json:"cpu,omitempty"`
	// MemoryGiB is MemTotal from /proc/meminfo, such as "23.5 GiB".
	MemoryGiB string `json:"memory"`
	// Kernel is the running kernel's release.
	Kernel string `json:"kernel,omitempty"`
	// LoadAverage is /proc/loadavg's 1, 5 and 15 minute figures when the run started.
	LoadAverage string `json:"load_average,omitempty"`
	// GoVersion is the toolchain that built bench.
	GoVersion string `json:"go_version"`
	// Date is when the run started, in RFC 3339 UTC.
	Date string `json:"date"`
	// Steward is what "steward version" printed.
	Steward string `json:"steward_version,omitempty"`
	// Postgres is the PostgreSQL server's version and durability settings, when it ran.
	Postgres string `json:"postgres,omitempty"`
}

// Settings are the knobs of a run.
type Settings struct {
	// Scale is the -scale given, such as "small" or "1M".
	Scale string `json:"scale"`
	// ScaleN is the generator's scale N, the organisation's size in incidents.
	ScaleN int `json:"scale_n"`
	// Seed is the generator's seed.
	Seed uint64 `json:"seed"`
	// Concurrency is the number of clients.
	Concurrency int `json:"concurrency"`
	// WarmupS is the unrecorded warm-up per scenario, in seconds.
	WarmupS float64 `json:"warmup_s"`
	// DurationS is the measured time per scenario, in seconds, unless Count is set.
	DurationS float64 `json:"duration_s,omitempty"`
	// Count is the measured operations per scenario, when given instead of a duration.
	Count int64 `json:"count,omitempty"`
	// Smoke marks a -smoke run, whose figures prove only that the harness works.
	Smoke bool `json:"smoke,omitempty"`
}

// Result is one scenario's figures on one engine.
type Result struct {
	// Scenario is the scenario's registered name.
	Scenario string `json:"scenario"`
	// Engine is "sqlite" or "postgres".
	Engine string `json:"engine"`
	// Scale is the -scale of the run.
	Scale string `json:"scale"`
	// Concurrency is the number of clients.
	Concurrency int `json:"concurrency"`
	// Ops counts the measured operations, failed ones included.
	Ops int64 `json:"ops"`
	// ElapsedS is the measured part's length in seconds.
	ElapsedS float64 `json:"elapsed_s"`
	// OpsPerSec is Ops over ElapsedS.
	OpsPerSec float64 `json:"ops_per_sec"`
	// P50Ms is the median latency in milliseconds.
	P50Ms float64 `json:"p50_ms"`
	// P99Ms is the 99th-percentile latency in milliseconds.
	P99Ms float64 `json:"p99_ms"`
	// MaxMs is the slowest operation's latency in milliseconds.
	MaxMs float64 `json:"max_ms"`
	// Errors counts the failed operations.
	Errors int64 `json:"errors"`
	// ServerPeakRSSMB is the server's peak RSS during the scenario in MiB; null
	// for offline scenarios, where no server runs.
	ServerPeakRSSMB *float64 `json:"server_peak_rss_mb"`
	// ServerCPUCores is the server's average CPU use while measured, in cores; null offline.
	ServerCPUCores *float64 `json:"server_cpu_cores"`
	// BenchCPUCores is this program's average CPU use while measured, in cores: the
	// load clients online, the storage engine itself offline.
	BenchCPUCores float64 `json:"bench_cpu_cores"`
	// DBCPUCores is the PostgreSQL server's CPU use, in cores; null on SQLite
	// (which runs inside the server or bench) and for a server on another machine.
	DBCPUCores *float64 `json:"db_cpu_cores"`
	// OtherCPUCores is what the rest of the machine used meanwhile, in cores: noise
	// that makes the figures unreliable when it is not near zero.
	OtherCPUCores float64 `json:"other_cpu_cores"`
	// FractionOfLimit is OpsPerSec over the ops/s of the scenario's limit.
	FractionOfLimit *float64 `json:"fraction_of_limit,omitempty"`
	// Limit names the offline scenario FractionOfLimit compares with.
	Limit string `json:"limit,omitempty"`
	// Notes are the scenario's own figures (records/s of a recompute, duplicate escalations …).
	Notes map[string]float64 `json:"notes,omitempty"`
}

// newResult turns a run's stats into a result row.
func newResult(sc Scenario, engine, scale string, concurrency int, st Stats) Result {
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
	return Result{
		Scenario: sc.Name, Engine: engine, Scale: scale, Concurrency: concurrency,
		Ops: st.Ops, ElapsedS: round(st.Elapsed.Seconds(), 3), OpsPerSec: round(st.OpsPerSec(), 1),
		P50Ms: ms(st.Quantile(0.50)), P99Ms: ms(st.Quantile(0.99)), MaxMs: ms(st.Max()),
		Errors: st.Errors, Limit: sc.Limit,
	}
}

// fillFractions sets FractionOfLimit on every result whose limit was measured on the same engine.
func fillFractions(rs []Result) {
	for i := range rs {
		if rs[i].Limit == "" {
			continue
		}
		for _, l := range rs {
			if l.Scenario == rs[i].Limit && l.Engine == rs[i].Engine && l.OpsPerSec > 0 {
				f := round(rs[i].OpsPerSec/l.OpsPerSec, 3)
				rs[i].FractionOfLimit = &f
			}
		}
	}
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// describeMachine reads the host's cores, CPU model, memory and kernel.
func describeMachine() Machine {
	m := Machine{
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Date:      time.Now().UTC().Format(time.RFC3339),
		MemoryGiB: "unknown",
	}
	if kb, ok := procField("/proc/meminfo", "MemTotal"); ok {
		if v, err := strconv.ParseFloat(strings.TrimSuffix(kb, " kB"), 64); err == nil {
			m.MemoryGiB = fmt.Sprintf("%.1f GiB", v/1024/1024)
		}
	}
	m.CPU, _ = procField("/proc/cpuinfo", "model name")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc file.
func procField(path, name string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// writeJSON writes the report to path, creating its directory.
func writeJSON(path string, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// readReport reads a results file that writeJSON wrote.
func readReport(path string) (Report, error) {
	var r Report
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.Results) == 0 || r.Machine.Date == "" {
		return r, fmt.Errorf("%s: no results in it", path)
	}
	return r, nil
}

// markdown renders the report as the Markdown that goes between the doc's markers.
func markdown(r Report) string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Measured %s on %d cores", m.Date[:10], m.Cores)
	if m.CPU != "" {
		fmt.Fprintf(&b, " (%s)", m.CPU)
	}
	fmt.Fprintf(&b, ", %s RAM", m.MemoryGiB)
	if m.Kernel != "" {
		fmt.Fprintf(&b, ", %s", m.Kernel)
	}
	fmt.Fprintf(&b, ", %s", m.GoVersion)
	if m.Steward != "" {
		fmt.Fprintf(&b, ", %s", m.Steward)
	}
	if m.LoadAverage != "" {
		fmt.Fprintf(&b, "; load average %s at the start", m.LoadAverage)
	}
	s := r.Settings
	fmt.Fprintf(&b, ".\nScale %s: %s, seed %d", s.Scale, organisation(r), s.Seed)
	fmt.Fprintf(&b, "; %d clients, %s warm-up, ", s.Concurrency, secs(s.WarmupS))
	if s.Count > 0 {
		fmt.Fprintf(&b, "%d operations per scenario.\n", s.Count)
	} else {
		fmt.Fprintf(&b, "%s measured per scenario.\n", secs(s.DurationS))
	}
	for _, l := range r.Loads {
		fmt.Fprintf(&b, "Generated on %s: %d rows in %.2f s, %.0f rows/s.\n", l.Engine, l.Rows, l.Seconds, l.RowsPerSec)
	}
	if m.Postgres != "" {
		fmt.Fprintf(&b, "PostgreSQL figures come from the throwaway test server: %s. "+
			"It does not flush to disk, so its writes are faster than a durable server's.\n", m.Postgres)
	}
	b.WriteString("\n| scenario | engine | ops/s | p50 ms | p99 ms | max ms | errors | server peak RSS MiB | CPU cores: server / bench / db / other | of limit |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	disturbed := false
	for _, x := range r.Results {
		name := x.Scenario
		if x.disturbed() {
			name, disturbed = name+" †", true
		}
		rss, frac := "–", ""
		if x.ServerPeakRSSMB != nil {
			rss = fmt.Sprintf("%.0f", *x.ServerPeakRSSMB)
		}
		if x.FractionOfLimit != nil {
			frac = fmt.Sprintf("%.0f %%", *x.FractionOfLimit*100)
			for _, l := range r.Results {
				if l.Scenario == x.Limit && l.Engine == x.Engine && (l.disturbed() || x.disturbed()) {
					frac += " †"
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %.1f | %d | %s | %s | %s |\n",
			name, x.Engine, x.OpsPerSec, x.P50Ms, x.P99Ms, x.MaxMs, x.Errors, rss, x.cpuSummary(), frac)
	}
	if disturbed {
		fmt.Fprintf(&b, "\n† Other processes used %.2f cores or more meanwhile: these figures (and fractions computed from them) are disturbed.\n", busyCores)
	}
	if g := guardCosts(r.Results); len(g) > 0 {
		b.WriteString("\nThe RACI guard's cost per transition (in-process, the same documents and people, guarded against unguarded):\n\n")
		for _, line := range g {
			b.WriteString("- " + line + "\n")
		}
	}
	return b.String()
}

// organisation describes the generated organisation of a run.
func organisation(r Report) string {
	if len(r.Loads) == 0 {
		return fmt.Sprintf("N = %d", r.Settings.ScaleN)
	}
	t := r.Loads[0].Tables
	return fmt.Sprintf("N = %d, %d users, %d teams, %d role assignments, %d records", r.Settings.ScaleN, t["users"], t["teams"],
		t["raci_assignments"], t["records"])
}

// cpuPerOp is the CPU one operation of an in-process scenario cost, in µs:
// bench's own and, on PostgreSQL, the database server's.
func cpuPerOp(x Result) float64 {
	if x.OpsPerSec <= 0 {
		return 0
	}
	c := x.BenchCPUCores
	if x.DBCPUCores != nil {
		c += *x.DBCPUCores
	}
	return c / x.OpsPerSec * 1e6
}

// guardCosts compares the guarded and unguarded in-process transitions per engine.
func guardCosts(rs []Result) []string {
	var out []string
	for _, g := range rs {
		if g.Scenario != "kernel.transition.guarded.in-process" {
			continue
		}
		for _, u := range rs {
			if u.Scenario != "kernel.transition.unguarded" || u.Engine != g.Engine || u.OpsPerSec <= 0 || g.OpsPerSec <= 0 {
				continue
			}
			cg, cu := cpuPerOp(g), cpuPerOp(u)
			mark := ""
			if g.disturbed() || u.disturbed() {
				mark = " †"
			}
			out = append(out, fmt.Sprintf("%s: %.0f µs of CPU per transition (%.0f guarded, %.0f unguarded), %.0f %% of it; "+
				"throughput %.0f against %.0f ops/s (%+.0f %%), p50 %.2f against %.2f ms%s",
				g.Engine, cg-cu, cg, cu, (cg-cu)/cg*100, g.OpsPerSec, u.OpsPerSec, (g.OpsPerSec/u.OpsPerSec-1)*100, g.P50Ms, u.P50Ms, mark))
		}
	}
	return out
}

// fmtCores shows a CPU figure, or a dash when there is none.
func fmtCores(c *float64) string {
	if c == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", *c)
}

func secs(s float64) string { return (time.Duration(s * float64(time.Second))).String() }

// Markers delimit the generated part of docs/benchmarks.md.
const (
	markerStart = "<!-- results:start -->"
	markerEnd   = "<!-- results:end -->"
)

// replaceResults returns doc with the lines between the marker lines replaced
// by section. Markers count only on lines of their own, so that prose may name them.
func replaceResults(doc, section string) (string, error) {
	lines := strings.SplitAfter(doc, "\n")
	start, end := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case markerStart:
			if start < 0 {
				start = i
			}
		case markerEnd:
			if start >= 0 && end < 0 {
				end = i
			}
		}
	}
	if start < 0 || end < 0 {
		return "", errors.New("no " + markerStart + " … " + markerEnd + " pair of lines")
	}
	return strings.Join(lines[:start+1], "") + strings.TrimSpace(section) + "\n" + strings.Join(lines[end:], ""), nil
}

// updateDoc rewrites the results section of the document at path.
func updateDoc(path string, r Report) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := replaceResults(string(b), markdown(r))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
