package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Linux reports process CPU times in clock ticks of 1/100 s (USER_HZ) on every
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuMeter measures who used the CPU during a scenario's measured part: the
// server, bench itself, the database server, and everything else.
type cpuMeter struct {
	server func() (time.Duration, error) // nil when no server runs
	db     func() (time.Duration, error) // nil when the database runs in-process or is remote

	start, end cpuSample
}

type cpuSample struct {
	server, bench, db, all       time.Duration
	serverErr, dbErr, allErr     error
	hasServer, hasDB, hasMachine bool
}

func (m *cpuMeter) sample() cpuSample {
	s := cpuSample{bench: selfCPUTime(), hasServer: m.server != nil, hasDB: m.db != nil}
	if m.server != nil {
		s.server, s.serverErr = m.server()
	}
	if m.db != nil {
		s.db, s.dbErr = m.db()
	}
	s.all, s.allErr = machineBusyTime()
	return s
}

// mark takes the sample at the start (true) or end (false) of the measured part; it is a Load.Mark.
func (m *cpuMeter) mark(measuring bool) {
	if measuring {
		m.start = m.sample()
	} else {
		m.end = m.sample()
	}
}

// fill sets the CPU fields of r from the two samples, taken elapsed apart.
func (m *cpuMeter) fill(r *Result, elapsed time.Duration) {
	s := elapsed.Seconds()
	if s <= 0 {
		return
	}
	cores := func(a, b time.Duration) float64 { return round(max((b-a).Seconds()/s, 0), 2) }
	r.BenchCPUCores = cores(m.start.bench, m.end.bench)
	known := r.BenchCPUCores
	if m.server != nil && m.start.serverErr == nil && m.end.serverErr == nil {
		c := cores(m.start.server, m.end.server)
		r.ServerCPUCores, known = &c, known+c
	}
	if m.db != nil && m.start.dbErr == nil && m.end.dbErr == nil {
		c := cores(m.start.db, m.end.db)
		r.DBCPUCores, known = &c, known+c
	}
	if m.start.allErr == nil && m.end.allErr == nil {
		r.OtherCPUCores = round(max(cores(m.start.all, m.end.all)-known, 0), 2)
	}
}

// cpuSummary shows the CPU figures as "server / bench / db / other" cores.
func (r Result) cpuSummary() string {
	return fmt.Sprintf("%s / %.2f / %s / %.2f", fmtCores(r.ServerCPUCores), r.BenchCPUCores, fmtCores(r.DBCPUCores), r.OtherCPUCores)
}

// busyCores is how much CPU other processes may use before figures count as disturbed.
const busyCores = 0.25

// waitIdle waits up to limit for a second in which the whole machine used less
// than busyCores, so that other work does not skew the next scenario.
func waitIdle(ctx context.Context, limit time.Duration, logf func(string, ...any)) {
	if limit <= 0 {
		return
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		a, err := machineBusyTime()
		if err != nil {
			return
		}
		sleep(ctx, time.Second)
		b, _ := machineBusyTime()
		if (b - a).Seconds() < busyCores {
			return
		}
	}
	logf("the machine stayed busy for %s; measuring anyway (see other_cpu_cores)", limit)
}

// disturbed reports whether other processes used enough CPU during a scenario
// to make its figures unreliable.
func (r Result) disturbed() bool { return r.OtherCPUCores >= busyCores }

// procStat is what bench needs from /proc/PID/stat.
type procStat struct {
	ppid int
	// cpu is user plus system time of all the process's threads.
	cpu time.Duration
	// childCPU is the CPU time of children that exited and were waited for.
	childCPU time.Duration
}

// readProcStat parses /proc/PID/stat.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// After the parenthesised command name come the state (field 3), the ppid
	// (4), …, utime (14), stime (15), cutime (16) and cstime (17).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("unexpected /proc/PID/stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, errors.New("unexpected /proc/PID/stat format")
	}
	var n [5]int64
	for k, idx := range []int{1, 11, 12, 13, 14} {
		if n[k], err = strconv.ParseInt(f[idx], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
		}
	}
	return procStat{ppid: int(n[0]), cpu: time.Duration(n[1]+n[2]) * clockTick, childCPU: time.Duration(n[3]+n[4]) * clockTick}, nil
}

// treeCPUTime is the CPU time of process root and its direct children,
// including children that have exited (PostgreSQL's backends are the
// postmaster's children).
func treeCPUTime(root int) (time.Duration, error) {
	rs, err := readProcStat(root)
	if err != nil {
		return 0, err
	}
	total := rs.cpu + rs.childCPU
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == root {
			continue
		}
		if st, err := readProcStat(pid); err == nil && st.ppid == root {
			total += st.cpu
		}
	}
	return total, nil
}

// machineBusyTime is the CPU time all processes on the machine have used so far
// (user, nice, system, irq, softirq and steal from the first line of /proc/stat).
func machineBusyTime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("unexpected /proc/stat format")
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// selfCPUTime is the CPU time this process (the load clients, or an in-process
// storage scenario) has used so far.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
