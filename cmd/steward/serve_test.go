package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is a `steward serve` running in the test process.
type server struct {
	base           string
	stdout, stderr *syncBuffer
	done           chan error
	stop           func() error
}

// startServer runs serve with the storage and extra flags, and waits until /healthz answers.
func startServer(t *testing.T, s storage, extra ...string) *server {
	t.Helper()
	sv := launch(t, s, extra...)
	sv.waitHealthy(t)
	return sv
}

// launch runs serve in the background; stop cancels it and waits for a graceful return.
func launch(t *testing.T, s storage, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	sv := &server{base: "http://" + addr, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	go func() {
		sv.done <- run(ctx, append(args(s, "serve", "--addr", addr, "--log-level", "info"), extra...), strings.NewReader(""), sv.stdout, sv.stderr)
	}()
	var once sync.Once
	var stopErr error
	sv.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-sv.done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("serve did not return 30s after cancel")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = sv.stop() })
	return sv
}

func (sv *server) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-sv.done:
			t.Fatalf("serve exited: %v\nstderr: %s", err, sv.stderr)
		default:
		}
		if resp, err := http.Get(sv.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy after 60s\nstderr: %s", sv.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var passwordLine = regexp.MustCompile(`(?m)^  password: (\S+)$`)

func TestServe(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, s storage) {
		sv := startServer(t, s)
		out := sv.stdout.String()
		m := passwordLine.FindAllStringSubmatch(out, -1)
		if len(m) != 1 || strings.Count(out, "username: admin") != 1 {
			t.Fatalf("first start printed %q; want the admin password exactly once", out)
		}
		password := m[0][1]

		code, body := get(t, sv.base+"/healthz")
		if code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Fatalf("/healthz = %d %s", code, body)
		}
		code, body = get(t, sv.base+"/readyz")
		var ready map[string]string
		if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusOK ||
			ready["status"] != "ready" || ready["engine"] != string(s.engine) {
			t.Fatalf("/readyz = %d %s", code, body)
		}
		code, body = get(t, sv.base+"/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics = %d", code)
		}
		for _, want := range []string{
			`steward_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",status="200"`,
			"go_goroutines ",
			`go_sql_open_connections{db_name="writer"}`,
			`go_sql_max_open_connections{db_name="writer"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}

		// The printed password is the admin's, and must be changed at first login.
		a := openApp(t, s)
		if _, u, err := a.Auth.Login(context.Background(), "admin", password, "", ""); err != nil || !u.Admin || !u.MustChangePassword {
			t.Fatalf("admin login with the printed password: %+v, %v", u, err)
		}

		if err := sv.stop(); err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
		logs := sv.stderr.String()
		for _, msg := range []string{"steward is serving", "shutting down", "stopped"} {
			if !strings.Contains(logs, `"msg":"`+msg) {
				t.Errorf("log lacks %q:\n%s", msg, logs)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["time"] == nil || rec["level"] == nil {
				t.Errorf("log line is not a JSON record with time and level: %q", line)
			}
		}
		if _, err := http.Get(sv.base + "/healthz"); err == nil {
			t.Error("the server still answers after shutdown")
		}

		again := startServer(t, s)
		if out := again.stdout.String(); out != "" {
			t.Errorf("second start printed %q; want nothing", out)
		}
		if err := again.stop(); err != nil {
			t.Fatalf("second shutdown: %v", err)
		}
	})
}

// Several nodes may serve one PostgreSQL database with the same --secret-key.
// Started at once, exactly one of them creates the administrator.
func TestServeNodesSharePostgres(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t, db.Postgres)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	var nodes []*server
	for i := range 3 {
		s := storage{db.Postgres, []string{"--database-url", u, "--data-dir", t.TempDir()}}
		nodes = append(nodes, launch(t, s, "--secret-key", key, "--node-id", fmt.Sprintf("node-%d", i)))
	}
	printed := 0
	for _, n := range nodes {
		n.waitHealthy(t)
		if code, body := get(t, n.base+"/readyz"); code != http.StatusOK || !strings.Contains(body, `"ready"`) {
			t.Errorf("/readyz of %s = %d %s", n.base, code, body)
		}
		printed += len(passwordLine.FindAllString(n.stdout.String(), -1))
		if strings.Contains(n.stderr.String(), "generated a secret key") {
			t.Errorf("a node with --secret-key generated its own key")
		}
	}
	if printed != 1 {
		t.Fatalf("%d administrator passwords printed across the nodes, want 1", printed)
	}
	for _, n := range nodes {
		if err := n.stop(); err != nil {
			t.Errorf("shutdown of %s: %v", n.base, err)
		}
	}
}

// A load balancer probes every node, often several times at once. /readyz must
// answer each probe promptly, whatever the other probes do.
func TestReadyzConcurrentProbes(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, s storage) {
		if s.engine == db.Postgres {
		}
		sv := startServer(t, s)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				start := time.Now()
				resp, err := http.Get(sv.base + "/readyz")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if d := time.Since(start); resp.StatusCode != http.StatusOK || d > 2*time.Second {
					t.Errorf("/readyz answered %d after %v; want 200 within 2s", resp.StatusCode, d)
				}
			})
		}
		wg.Wait()
	})
}

// The rate limit keys on the bearer token when there is one. A client that
// sends a different made-up token with each request must still be limited by
// its address: each such request costs a database lookup and an audit write.
func TestRateLimitWithMadeUpTokens(t *testing.T) {
	t.Parallel()
	s := storage{db.SQLite, []string{"--data-dir", t.TempDir()}}
	sv := startServer(t, s, "--rate-limit", "1", "--rate-burst", "2")
	limited := 0
	for i := range 10 {
		req, _ := http.NewRequest(http.MethodGet, sv.base+"/api/v1/me", nil)
		req.Header.Set("Authorization", fmt.Sprintf("Bearer stw_madeup%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("10 requests in a burst of 2 with made-up tokens: none was rate limited")
	}
}
