package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/settings"
	"steward/internal/transition/cmdb"
)

// cmdbSite is the web UI with configuration management over a fresh database.
type cmdbSite struct {
	*testSite
	db    *db.DB
	cmdb  *cmdb.Service
	admin auth.User
	// as is a context signed in as the administrator, for the service calls that build the data.
	as context.Context
}

func newCMDBSite(t *testing.T, d *db.DB) *cmdbSite {
	t.Helper()
	c := clock.System{}
	trail := audit.NewTrail(c)
	events := outbox.New(c, nil)
	as := auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.Config{})
	model, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	rs := raci.New(d, model, trail, events, c)
	recs := record.New(record.Deps{DB: d, Guard: rs, Model: model, Trail: trail, Events: events, Clock: c})
	cm, err := cmdb.New(cmdb.Deps{DB: d, Records: recs, RACI: rs, Trail: trail, Events: events, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := cm.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	st := settings.NewStore(d, trail, c, time.Second)
	if _, err := as.CreateUser(ctx, auth.NewUser{Username: testUser, Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	admin, err := as.CreateUser(ctx, auth.NewUser{Username: "cfg-admin", Password: testPassword, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Test API", "1.2.3"))
	log := slog.New(slog.DiscardHandler)
	if err := Register(mux, Deps{Auth: as, Settings: st, Log: log, Version: "test", API: api, RACI: rs, Records: recs, CMDB: cm}); err != nil {
		t.Fatal(err)
	}
	h := httpx.Chain(mux, httpx.RequestMeta(), auth.Authenticate(as, log, nil), raci.RequestCache)
	ts := &testSite{t: t, handler: h, auth: as, settings: st, raci: rs, records: recs}
	return &cmdbSite{testSite: ts, db: d, cmdb: cm, admin: admin,
		as: auth.WithPrincipal(ctx, &auth.Principal{UserID: admin.ID, Username: admin.Username, Admin: true})}
}

func (s *cmdbSite) ci(class, name string, attrs cmdb.Attrs, minUp int64) cmdb.CI {
	s.t.Helper()
	c, err := s.cmdb.CreateCI(s.as, cmdb.NewCI{Class: class, Name: name, Attrs: attrs, MinUp: minUp})
	if err != nil {
		s.t.Fatalf("create %s: %v", name, err)
	}
	return c
}

func (s *cmdbSite) relate(src int64, typ string, dst int64) {
	s.t.Helper()
	if _, err := s.cmdb.AddRelation(s.as, cmdb.NewRelation{SourceID: src, Type: typ, TargetID: dst}); err != nil {
		s.t.Fatalf("relate %d %s %d: %v", src, typ, dst, err)
	}
}

// world is a switch, three servers in a cluster that needs two of them, a
// database on the cluster, an application using it, and the business
// service the application provides.
type world struct {
	sw, cluster, db, app, evil cmdb.CI
	servers                    []cmdb.CI
	service                    cmdb.ServiceCI
}

func (s *cmdbSite) world() world {
	s.t.Helper()
	var w world
	w.sw = s.ci("network_device", "core-switch", cmdb.Attrs{"device_type": "switch"}, 0)
	w.cluster = s.ci("cluster", "prod-cluster", cmdb.Attrs{"cluster_type": "compute"}, 2)
	for i := 1; i <= 3; i++ {
		srv := s.ci("server", fmt.Sprintf("srv-%d", i), cmdb.Attrs{"hostname": fmt.Sprintf("srv-%d.example", i), "os": "RHEL 9",
			"serial_number": fmt.Sprintf("SN-%d", i), "asset_tag": fmt.Sprintf("AT-%d", i), "memory_gb": 64}, 0)
		s.relate(srv.ID, "connected_to", w.sw.ID)
		s.relate(srv.ID, "member_of", w.cluster.ID)
		w.servers = append(w.servers, srv)
	}
	w.db = s.ci("database", "orders-db", cmdb.Attrs{"engine": "postgresql"}, 0)
	s.relate(w.db.ID, "runs_on", w.cluster.ID)
	w.app = s.ci("application", "orders-app", nil, 0)
	s.relate(w.app.ID, "depends_on", w.db.ID)
	svc, err := s.cmdb.CreateService(s.as, cmdb.NewService{Name: "Order service", Kind: "business", Criticality: cmdb.CriticalityCritical,
		OwnerID: s.admin.ID, Partners: []string{"Partner Alpha", "Partner Bravo"}})
	if err != nil {
		s.t.Fatal(err)
	}
	w.service = svc
	s.relate(w.app.ID, "provides", svc.ID)
	w.evil = s.ci("application", "<script>alert(1)</script>", nil, 0)
	s.relate(w.evil.ID, "depends_on", w.db.ID)
	return w
}

// hub adds a CI with 1,000 relations (500 each way) written straight into the
// tables, which is far faster than a thousand transactions.
func (s *cmdbSite) hub() cmdb.CI {
	s.t.Helper()
	h := s.ci("application", "hub-app", nil, 0)
	var class, depends, runsOn int64
	ctx := context.Background()
	for q, into := range map[string]*int64{
		`SELECT id FROM ci_classes WHERE name = 'server'`:            &class,
		`SELECT id FROM ci_relation_types WHERE name = 'depends_on'`: &depends,
		`SELECT id FROM ci_relation_types WHERE name = 'runs_on'`:    &runsOn,
	} {
		if err := s.db.QueryRowContext(ctx, q).Scan(into); err != nil {
			s.t.Fatal(err)
		}
	}
	now := time.Now().UnixMilli()
	stmts := []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
			INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from)
			SELECT %d, 'leaf-' || CAST(1000 + i AS TEXT), 'operational', %d, %d, %d FROM n`, class, now, now, now),
		fmt.Sprintf(`INSERT INTO ci_relations (source_id, type_id, target_id, created_at)
			SELECT %d, %d, id, %d FROM cis WHERE name LIKE 'leaf-1%%' AND name <= 'leaf-1500'`, h.ID, depends, now),
		fmt.Sprintf(`INSERT INTO ci_relations (source_id, type_id, target_id, created_at)
			SELECT id, %d, %d, %d FROM cis WHERE name > 'leaf-1500' AND name LIKE 'leaf-%%'`, runsOn, h.ID, now),
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			s.t.Fatalf("%v\n%s", err, q)
		}
	}
	return h
}

func wantStatus(t *testing.T, what string, res *http.Response, body string, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s: %d, want %d\n%s", what, res.StatusCode, status, body)
	}
}

func ciPath(id int64) string { return fmt.Sprintf("/cmdb/cis/%d", id) }

func TestCMDBPages(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newCMDBSite(t, d)
		w := s.world()
		hub := s.hub()
		cookie := s.loginAs("cfg-admin")
		get := func(path string, status int) string {
			t.Helper()
			res, body := s.do("GET", path, nil, cookie)
			wantStatus(t, path, res, body, status)
			return body
		}

		// The list: every CI, HTML-escaped; filters by class, attribute and name; keyset paging.
		body := get("/cmdb?name=srv", 200)
		mustContain(t, "the list", body, ">srv-1</a>", ">srv-3</a>", `<option value="virtual_server">`+"\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0Virtual server</option>",
			`href="/cmdb" aria-current="page">Configuration</a>`, "3 CIs")
		body = get("/cmdb?name=%3Cscript", 200)
		if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;</a>") {
			t.Fatal("the list does not escape a CI's name")
		}
		mustContain(t, "hardware", get("/cmdb?class=hardware&name=srv", 200), ">srv-2</a>")
		mustContain(t, "hardware", get("/cmdb?class=hardware&name=core", 200), ">core-switch</a>")
		if body := get("/cmdb?class=hardware&name=orders", 200); strings.Contains(body, ">orders-db</a>") {
			t.Error("the class filter lets software through")
		}
		body = get("/cmdb?attr=hostname&value=SRV-2.EXAMPLE", 200)
		if !strings.Contains(body, ">srv-2</a>") || strings.Contains(body, ">srv-1</a>") {
			t.Error("the attribute filter does not match case-insensitively and alone")
		}
		body = get("/cmdb?value=x", 422)
		mustContain(t, "a value without an attribute", body, "Choose the attribute whose value to match.")
		body = get("/cmdb?class=nope", 422)
		mustContain(t, "an unknown class", body, "Unknown CI class nope")
		body = get("/cmdb?name=leaf-", 200)
		mustContain(t, "the first page", body, "1000 CIs", ">leaf-1001</a>", ">leaf-1050</a>")
		next := regexp.MustCompile(`href="(/cmdb\?[^"]*cursor=[^"]+)" rel="next"`).FindStringSubmatch(body)
		if next == nil || strings.Contains(body, ">leaf-1051</a>") {
			t.Fatal("the first page has no next link, or too many rows")
		}
		body = get(strings.ReplaceAll(next[1], "&amp;", "&"), 200)
		mustContain(t, "the second page", body, ">leaf-1051</a>", ">leaf-1100</a>", "First page")
		if strings.Contains(body, ">leaf-1050</a>") {
			t.Error("the second page repeats the first")
		}
		mustContain(t, "a bad cursor", get("/cmdb?cursor=zzz", 422), "The page link is out of date")

		// A server's page: attributes in the class's order (inherited first), relations both ways.
		srv := w.servers[0]
		body = get(ciPath(srv.ID), 200)
		mustContain(t, "the server's page", body, "<h1>srv-1</h1>", "Configuration item · Hardware › Server · marked UNCLASSIFIED",
			`<span class="tag tag-active"><span class="visually-hidden">Status: </span>operational</span>`,
			"<dt>Host name</dt><dd>srv-1.example</dd>", "<dt>Memory (GB)</dt><dd>64</dd>",
			"srv-1 <strong>member of cluster</strong>", `href="/cmdb/cis/`+itoa(w.cluster.ID)+`">prod-cluster</a>`,
			"srv-1 <strong>connected to</strong>", ciPath(srv.ID)+"/impact?direction=down", ciPath(srv.ID)+"/impact?direction=up",
			`<input type="hidden" name="version" value="1">`)
		order := []string{"<dt>Asset tag</dt>", "<dt>Serial number</dt>", "<dt>Host name</dt>", "<dt>Operating system</dt>", "<dt>Memory (GB)</dt>"}
		for i := 1; i < len(order); i++ {
			if strings.Index(body, order[i-1]) > strings.Index(body, order[i]) {
				t.Errorf("%s comes after %s", order[i-1], order[i])
			}
		}
		body = get(ciPath(w.cluster.ID), 200)
		mustContain(t, "the cluster's page", body, "prod-cluster <strong>has member</strong> <span class=\"muted\">(3)</span>",
			"prod-cluster <strong>hosts</strong>", ">orders-db</a>", "<dt>Members that must be up</dt><dd>2</dd>")
		body = get(ciPath(w.evil.ID), 200)
		if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>") {
			t.Fatal("the CI page does not escape the CI's name")
		}
		get(ciPath(999999), 404)
		get("/cmdb/cis/abc", 404)
		get("/cmdb/cis/0", 404)

		// History, and the page as of a moment before the change.
		before := time.Now().UTC()
		time.Sleep(5 * time.Millisecond)
		if _, err := s.cmdb.UpdateCI(s.as, srv.ID, 1, cmdb.CIUpdate{Attrs: cmdb.Attrs{"os": "RHEL 10"}}); err != nil {
			t.Fatal(err)
		}
		body = get(ciPath(srv.ID), 200)
		mustContain(t, "the history", body, "<strong>Version 2</strong>", `<span class="field-name">attributes.os</span>: <del>RHEL 9</del> → <ins>RHEL 10</ins>`,
			"<strong>Version 1</strong>", "by cfg-admin", "<dt>Operating system</dt><dd>RHEL 10</dd>",
			"attributes.os <span class=\"muted\">· v2")
		at := before.Format(time.RFC3339Nano)
		body = get(ciPath(srv.ID)+"?at="+url.QueryEscape(at), 200)
		mustContain(t, "the page as of before the change", body, "<strong>As of <time", "this is version 1 of the CI", "The CI is now at version 2",
			"<dt>Operating system</dt><dd>RHEL 9</dd>", `<span class="tag tag-current">shown above</span>`)
		if strings.Contains(body, `name="version"`) {
			t.Error("a past version offers the edit form")
		}
		mustContain(t, "a bad moment", get(ciPath(srv.ID)+"?at=yesterday", 200), "Give the moment as a date and time")
		mustContain(t, "a moment before the CI", get(ciPath(srv.ID)+"?at=2000-01-01T00:00", 200), "did not exist at 2000-01-01T00:00:00Z", "The page shows it as it is now.")

		// The impact of one server: the cluster degraded, and everything above it.
		body = get(ciPath(srv.ID)+"/impact", 200)
		mustContain(t, "the impact view", body, "<svg", `class="g-svg"`, "prod-cluster", "1/3 members down", "Order service",
			"Mission critical", "Partner Alpha, Partner Bravo", `href="/cmdb/services/`+itoa(w.service.ID)+`"`,
			`<a href="/cmdb/cis/`+itoa(srv.ID)+`">srv-1</a> <span class="muted">(member of cluster)</span>`,
			`<a href="/cmdb/cis/`+itoa(w.cluster.ID)+`">prod-cluster</a> <span class="muted">(hosts)</span>`)
		if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Fatal("the impact view does not escape a CI's name")
		}
		body = get(ciPath(w.app.ID)+"/impact?direction=up&depth=2", 200)
		mustContain(t, "upstream", body, "Dependencies of orders-app", ">orders-db</a>", ">prod-cluster</a>")
		if strings.Contains(body, ">srv-1</a>") {
			t.Error("depth 2 reaches three hops")
		}
		body = get(ciPath(srv.ID)+"/impact?type=runs_on", 200)
		mustContain(t, "following only member_of", get(ciPath(srv.ID)+"/impact?type=member_of", 200), ">prod-cluster</a>")
		if strings.Contains(body, "Order service</a>") {
			t.Error("the type filter is ignored")
		}
		mustContain(t, "a bad depth", get(ciPath(srv.ID)+"/impact?depth=deep", 422), "Give the depth as a number of hops")
		get(ciPath(999999)+"/impact", 404)

		// What if two servers fail: the cluster (2 of 3 needed) is down.
		body = get("/cmdb/simulate", 200)
		mustContain(t, "the what-if form", body, `<textarea id="cis" name="cis"`)
		body = get("/cmdb/simulate?cis="+url.QueryEscape("srv-1\r\n"+itoa(w.servers[1].ID)+"\n"), 200)
		mustContain(t, "the what-if outage", body, "<svg", "2/3 members down", "Order service")
		if !regexp.MustCompile(`prod-cluster</a></th>\s*<td>Cluster</td><td><span class="tag tag-revoked">down</span>`).MatchString(body) {
			t.Error("the cluster is not down with two of three members failed")
		}
		mustContain(t, "an unknown name", get("/cmdb/simulate?cis=srv-9", 422), "No CI has the id or the exact name &#34;srv-9&#34;")

		// Services.
		body = get("/cmdb/services", 200)
		mustContain(t, "the services", body, ">Order service</a>", "Business", "Mission critical", "Partner Alpha, Partner Bravo", ">cfg-admin</a>")
		body = get("/cmdb/services/"+itoa(w.service.ID), 200)
		mustContain(t, "the service's page", body, "<h1>Order service</h1>", "<dt>Criticality</dt><dd>Mission critical</dd>",
			"Upstream dependencies", "Order service <strong>provided by</strong>", ">orders-app</a>")
		get("/cmdb/services/"+itoa(srv.ID), 404)

		// The update above named no approved change, so it is flagged.
		body = get("/cmdb/unauthorised", 200)
		mustContain(t, "the flags", body, `<a href="/cmdb/cis/`+itoa(srv.ID)+`">srv-1</a>`, "attributes.os", "v2", ">cfg-admin</a>")

		// A CI with 1,000 relations lists them all. The page reads them with
		// the two queries of Relations; the time is logged, not asserted.
		start := time.Now()
		body = get(ciPath(hub.ID), 200)
		t.Logf("the page of a CI with 1,000 relations took %v", time.Since(start))
		mustContain(t, "the hub", body, "Relations <span class=\"muted\">(1000)</span>", "hub-app <strong>depends on</strong> <span class=\"muted\">(500)</span>",
			"hub-app <strong>hosts</strong> <span class=\"muted\">(500)</span>", ">leaf-1001</a>", ">leaf-2000</a>")
		if n := strings.Count(body, `<th scope="row"><a href="/cmdb/cis/`); n != 1000 {
			t.Errorf("the hub's page lists %d related CIs, want 1000", n)
		}
	})
}

// TestCMDBEditKeepsInput: a failed save shows the errors next to the fields
// with what was typed; a stale version saves nothing; a user without CfM3 sees why.
func TestCMDBEditKeepsInput(t *testing.T) {
	t.Parallel()
	s := newCMDBSite(t, dbtest.Open(t, db.SQLite))
	srv := s.ci("server", "edit-me", cmdb.Attrs{"os": "RHEL 9", "memory_gb": 16}, 0)
	cookie := s.loginAs("cfg-admin")
	path := ciPath(srv.ID)
	form := func(version string, changes map[string]string) url.Values {
		v := url.Values{"version": {version}, "ci-name": {"edit-me"}, "ci-status": {"operational"}, "ci-marking": {"UNCLASSIFIED"},
			"attr-os": {"RHEL 9"}, "attr-memory_gb": {"16"}}
		for k, x := range changes {
			v.Set(k, x)
		}
		return v
	}

	res, body := s.do("POST", path, form("1", map[string]string{"attr-memory_gb": "lots", "attr-os": "RHEL 10", "ci-status": "disposed"}), cookie)
	wantStatus(t, "a bad number", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the failed save", body, `class="error-summary"`, `<a href="#attr-memory_gb">Memory (GB): expected a number.</a>`,
		`id="attr-memory_gb-error"`, `value="lots"`, `value="RHEL 10"`, `<details class="panel edit" id="edit" open>`)

	res, body = s.do("POST", path, form("1", map[string]string{"ci-status": "disposed", "attr-os": "RHEL 10"}), cookie)
	wantStatus(t, "a move the lifecycle forbids", res, body, http.StatusConflict)
	mustContain(t, "the refused status", body, "A operational CI cannot become disposed", `value="RHEL 10"`)

	res, body = s.do("POST", path, form("1", map[string]string{"attr-os": "RHEL 10", "attr-memory_gb": ""}), cookie)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != path+"?saved=1" {
		t.Fatalf("a good save: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	c, err := s.cmdb.GetCI(s.as, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 2 || c.Attrs["os"] != "RHEL 10" || c.Attrs["memory_gb"] != nil {
		t.Fatalf("saved: v%d %v", c.Version, c.Attrs)
	}
	_, body = s.do("GET", path+"?saved=1", nil, cookie)
	mustContain(t, "after the save", body, "Saved: the CI is now version 2.", "attributes.memory_gb")

	res, body = s.do("POST", path, form("1", map[string]string{"ci-name": "renamed"}), cookie)
	wantStatus(t, "a stale version", res, body, http.StatusPreconditionFailed)
	mustContain(t, "the stale save", body, "Someone else changed this CI since you opened it", `value="renamed"`, `name="version" value="2"`)

	res, _ = s.do("POST", path, form("2", map[string]string{"attr-os": "RHEL 10", "attr-memory_gb": ""}), cookie)
	wantRedirect(t, res, path+"?saved=none")

	// Alice holds no CfM role.
	alice, _ := s.login(testPassword)
	_, body = s.do("GET", path, nil, alice)
	mustContain(t, "alice's view", body, "You may not change this CI.", "CfM3")
	if strings.Contains(body, `name="version"`) {
		t.Error("alice is offered the edit form")
	}
	res, body = s.do("POST", path, form("2", map[string]string{"ci-name": "mine"}), alice)
	wantStatus(t, "alice's save", res, body, http.StatusForbidden)
}
