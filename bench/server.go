package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchUser is the administrator the benchmark creates and acts as.
const benchUser = "benchadmin"

// benchPassword is the benchmark administrator's password; it must pass the
// password policy (15 characters or more, not containing the username).
const benchPassword = "Load-harness-only-7Q2xv9"

// server is one steward child process and the storage it runs on.
type server struct {
	bin     string
	dataDir string
	dbURL   string // empty: SQLite in dataDir
	logPath string

	cmd    *exec.Cmd
	exited chan error
	addr   string
}

// storageArgs are the flags that point every steward command at the same database.
func (s *server) storageArgs() []string {
	a := []string{"--data-dir", s.dataDir}
	if s.dbURL != "" {
		a = append(a, "--database-url", s.dbURL)
	}
	return a
}

// cli runs one steward command to completion and returns its standard output.
func (s *server) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, append(args, s.storageArgs()...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("steward %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// migrate applies the migrations with "steward migrate", so that the schema
// exists before seeding and before the server starts.
func (s *server) migrate(ctx context.Context) error {
	_, err := s.cli(ctx, "", "migrate")
	return err
}

// createToken creates the benchmark administrator and returns a new bearer token for it.
func (s *server) createToken(ctx context.Context) (string, error) {
	if _, err := s.cli(ctx, benchPassword+"\n", "user", "create", benchUser, "--admin"); err != nil {
		return "", err
	}
	out, err := s.cli(ctx, "", "token", "create", "--user", benchUser, "--name", "bench", "--expires", "0")
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(out)
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("steward token create printed %q, want one token", out)
	}
	return tok, nil
}

// start runs "steward serve" on a free port and waits until /healthz answers.
func (s *server) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	log, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	args := append([]string{"serve", "--addr", s.addr, "--rate-limit", "0", "--log-level", "warn"}, s.storageArgs()...)
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start steward serve: %w", err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait(); log.Close() }()

	deadline := time.Now().Add(60 * time.Second)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("steward serve exited before it was ready (%v); log:\n%s", err, s.logTail())
		case <-ctx.Done():
			s.stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("steward serve not healthy after 60s; log:\n%s", s.logTail())
		}
	}
}

// baseURL is the running server's root URL.
func (s *server) baseURL() string { return "http://" + s.addr }

// resetPeakRSS clears the kernel's resident-set high-water mark of the server
// (writing 5 to /proc/PID/clear_refs), so that the next peakRSSMB is the peak
// of what happened since. It reports whether the reset worked.
func (s *server) resetPeakRSS() bool {
	if s.cmd == nil || s.cmd.Process == nil {
		return false
	}
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0) == nil
}

// peakRSSMB is the server's peak resident set size (VmHWM) in MiB.
func (s *server) peakRSSMB() (float64, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, errors.New("server not running")
	}
	return procStatusMB(s.cmd.Process.Pid, "VmHWM")
}

// procStatusMB reads a kB field such as VmHWM from /proc/PID/status, in MiB.
func procStatusMB(pid int, field string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", field, err)
		}
		return kb / 1024, nil
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// cpuTime is the CPU time the server has used so far, user and system, all threads.
func (s *server) cpuTime() (time.Duration, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, errors.New("server not running")
	}
	st, err := readProcStat(s.cmd.Process.Pid)
	return st.cpu, err
}

// stop sends SIGTERM and waits for the server to finish, killing it after 30s.
func (s *server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return fmt.Errorf("steward serve exited with %v; log:\n%s", err, s.logTail())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("steward serve ignored SIGTERM for 30s and was killed")
	}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// absBin resolves the steward binary's path so that it works from any directory.
func absBin(bin string) (string, error) {
	p, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", fmt.Errorf("-bin %s: no steward binary there (run make build)", bin)
	}
	return p, nil
}
