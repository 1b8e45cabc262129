package cmdb_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
	"steward/internal/transition/cmdb/reconcile"
)

// auditFixture registers the servers a discovery file is checked against.
type auditFixture struct {
	web1, web2, db1, app1 cmdb.CI
}

func newAuditFixture(e *ctlEnv) auditFixture {
	var f auditFixture
	f.web1 = e.ci("server", "web1", cmdb.Attrs{"serial_number": "SN1", "hostname": "web1", "domain": "ex.com", "os": "Linux", "cpu_count": 4})
	f.web2 = e.ci("server", "web2", cmdb.Attrs{"serial_number": "SN2", "hostname": "web2", "domain": "ex.com", "os": "Linux", "cpu_count": 8})
	f.db1 = e.ci("server", "db1", cmdb.Attrs{"serial_number": "SN3", "hostname": "db1", "domain": "ex.com", "os": "Linux"})
	f.app1 = e.ci("virtual_server", "app1", cmdb.Attrs{"hostname": "app1", "domain": "ex.com", "os": "Linux"})
	e.ci("network_device", "sw1", cmdb.Attrs{"serial_number": "SN5"}) // out of the scope
	if _, err := e.svc.CreateCI(e.mgr, cmdb.NewCI{Class: "server", Name: "gone", Status: cmdb.StatusDisposed}); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// discoveryCSV is what was observed: web1 by serial (its cpu_count written
// differently), app1 by host name and domain only (in other letter case,
// with a root dot), web2 with another OS, an unknown server, and web1 again.
// db1 was not observed.
const discoveryCSV = `serial_number,hostname,domain,os,cpu_count
SN1,web1,ex.com,Linux,4.0
,APP1,EX.COM.,Linux,
SN2,web2,ex.com,Windows,8
SN9,new1,ex.com,Linux,2
SN1,web1-again,ex.com,Linux,4
`

// TestAuditReconcilesDiscoveryFile runs a verification audit of the servers
// against a discovery file: a dry run stores nothing; the audit then reports
// the mismatched, missing and unexpected CIs, stores them, and opens a
// remediation task for each; a file with unknown columns is refused whole.
func TestAuditReconcilesDiscoveryFile(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		f := newAuditFixture(e)
		run := func(dry, remediate bool) cmdb.AuditReport {
			t.Helper()
			rep, err := e.svc.RunAudit(e.lib, cmdb.NewAudit{Name: "quarterly", Scope: cmdb.AuditScope{Class: "server"}, Format: reconcile.FormatCSV,
				Source: strings.NewReader(discoveryCSV), SourceName: "scan.csv", DryRun: dry, Remediate: remediate})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		dry := run(true, true)
		if dry.ID != 0 || !dry.DryRun || dry.TasksOpened != 0 || e.count(`SELECT COUNT(*) FROM ci_audits`) != 0 ||
			e.count(`SELECT COUNT(*) FROM records WHERE type = 'config_remediation'`) != 0 {
			t.Fatalf("the dry run wrote: %+v", dry.Audit)
		}
		rep := run(false, true)
		for _, r := range []cmdb.AuditReport{dry, rep} {
			a := r.Audit
			if a.Observed != 5 || a.Matched != 3 || a.Mismatched != 1 || a.Missing != 1 || a.Unexpected != 2 || r.Duplicates != 1 || r.Ambiguous != 0 {
				t.Errorf("counts %+v, duplicates %d", a, r.Duplicates)
			}
			if !slices.Equal(a.Compare, []string{"serial_number", "hostname", "domain", "os", "cpu_count"}) || len(a.Rules) != 2 {
				t.Errorf("compare %v rules %v", a.Compare, a.Rules)
			}
		}
		type brief struct {
			kind, reason string
			ci           int64
			line         int
		}
		var got []brief
		for _, fd := range rep.Findings {
			b := brief{kind: fd.Kind, reason: fd.Reason, line: fd.Line}
			if fd.CI != nil {
				b.ci = fd.CI.ID
			}
			got = append(got, b)
		}
		want := []brief{{"unexpected", "duplicate", f.web1.ID, 6}, {"mismatched", "", f.web2.ID, 4}, {"missing", "", f.db1.ID, 0}, {"unexpected", "", 0, 5}}
		if !slices.Equal(got, want) {
			t.Fatalf("findings %+v, want %+v", got, want)
		}
		mis := rep.Findings[1]
		if len(mis.Differences) != 1 || mis.Differences[0] != (cmdb.FieldDifference{Field: "os", Recorded: "Linux", Observed: "Windows"}) ||
			mis.Rule != "serial_number" || mis.CI.Name != "web2" {
			t.Errorf("mismatch %+v", mis)
		}

		// Stored, with a remediation task for each finding.
		if rep.ID == 0 || rep.TasksOpened != 4 || rep.TasksNotOpened != 0 || rep.Tasks != 4 {
			t.Fatalf("report %+v", rep)
		}
		stored, err := e.svc.Audit(e.str, rep.ID)
		if err != nil || stored.Tasks != 4 || stored.Missing != 1 || stored.SourceName != "scan.csv" || stored.SHA256 != rep.SHA256 {
			t.Fatalf("stored %+v, %v", stored, err)
		}
		page, total, err := e.svc.AuditFindings(e.str, rep.ID, "", listing.Params{})
		if err != nil || total != 4 {
			t.Fatalf("findings: %d %v", total, err)
		}
		for i, fd := range page.Items {
			if fd.ID != rep.Findings[i].ID || fd.TaskNumber == "" || fd.TaskNumber != rep.Findings[i].TaskNumber || fd.Kind != rep.Findings[i].Kind {
				t.Errorf("finding %d: stored %+v, reported %+v", i, fd, rep.Findings[i])
			}
		}
		missing, _, err := e.svc.AuditFindings(e.str, rep.ID, "missing", listing.Params{})
		if err != nil || len(missing.Items) != 1 || missing.Items[0].CI.Name != "db1" {
			t.Fatalf("missing: %+v %v", missing.Items, err)
		}
		task, err := e.recs.Get(e.lib, missing.Items[0].TaskNumber)
		if err != nil {
			t.Fatal(err)
		}
		if task.Type != "config_remediation" || task.State != "open" || !strings.Contains(task.Title, "db1") || !strings.Contains(task.Description, "quarterly") {
			t.Errorf("task %+v", task)
		}
		unexpected, _, _ := e.svc.AuditFindings(e.str, rep.ID, "unexpected", listing.Params{})
		if len(unexpected.Items) != 2 || unexpected.Items[1].Observed["serial_number"] != "SN9" || unexpected.Items[1].Line != 5 {
			t.Errorf("unexpected: %+v", unexpected.Items)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ci.audit'`); n != 1 {
			t.Errorf("%d audit entries", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM outbox_events WHERE type = 'ci.audited'`); n != 1 {
			t.Errorf("%d events", n)
		}

		// A file with unknown columns is reported, not half-applied.
		_, err = e.svc.RunAudit(e.lib, cmdb.NewAudit{Name: "bad", Scope: cmdb.AuditScope{Class: "server"}, Format: reconcile.FormatCSV,
			Source: strings.NewReader("serial_number,colour,site\nSN1,red,x\n"), Remediate: true})
		ue := ctlWantKind(t, err, errs.Invalid)
		if len(ue.Fields) != 2 || ue.Fields[0].Value != "colour" || ue.Fields[1].Value != "site" || ue.Fields[0].Location != "columns" {
			t.Errorf("unknown columns: %+v", ue.Fields)
		}
		if n := e.count(`SELECT COUNT(*) FROM ci_audits`); n != 1 {
			t.Errorf("%d audits after a refused file", n)
		}
		// device_type is an attribute of network devices, not of servers.
		_, err = e.svc.RunAudit(e.lib, cmdb.NewAudit{Name: "bad", Scope: cmdb.AuditScope{Class: "server"}, Format: reconcile.FormatCSV,
			Source: strings.NewReader("serial_number,device_type\nSN1,switch\n")})
		ctlWantKind(t, err, errs.Invalid)
		// Who may audit.
		_, err = e.svc.RunAudit(e.str, cmdb.NewAudit{Name: "x", Format: reconcile.FormatCSV, Source: strings.NewReader(discoveryCSV)})
		ctlWantKind(t, err, errs.Forbidden)
	})
}

// TestAuditOptions covers JSON files, chosen rules and compared fields, the
// whole tree as the default scope, and refused options.
func TestAuditOptions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		f := newAuditFixture(e)
		rep, err := e.svc.RunAudit(e.mgr, cmdb.NewAudit{Name: "by name", Format: reconcile.FormatJSON, DryRun: true,
			Rules: []reconcile.Rule{{Name: "name", Fields: []string{"name"}}}, Compare: []string{"status", "class"},
			Source: strings.NewReader(`{"items": [{"name": "web1", "status": "retired", "class": "server"}, {"name": "sw1", "status": "operational"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		// Every CI of the tree (but the disposed one) is in scope: 5, two observed.
		if rep.Observed != 2 || rep.Matched != 2 || rep.Mismatched != 1 || rep.Missing != 3 || rep.Scope.Class != "configuration_item" {
			t.Errorf("report %+v", rep.Audit)
		}
		if d := rep.Findings[0].Differences; len(d) != 1 || d[0].Field != "status" || rep.Findings[0].CI.ID != f.web1.ID {
			t.Errorf("findings %+v", rep.Findings)
		}
		// Two CIs with one host name and domain: a row with them is ambiguous.
		a := e.ci("server", "twin-a", cmdb.Attrs{"hostname": "twin", "domain": "ex.com"})
		b := e.ci("server", "twin-b", cmdb.Attrs{"hostname": "twin", "domain": "ex.com"})
		rep, err = e.svc.RunAudit(e.mgr, cmdb.NewAudit{Name: "twins", Scope: cmdb.AuditScope{Class: "server"}, Format: reconcile.FormatCSV,
			DryRun: true, Source: strings.NewReader("hostname,domain\nTWIN,ex.com\n")})
		if err != nil {
			t.Fatal(err)
		}
		last := rep.Findings[0] // ambiguous findings come first
		if rep.Ambiguous != 1 || rep.Missing != 4 || rep.Unexpected != 1 || last.Reason != "ambiguous" || last.Kind != "unexpected" ||
			!slices.Equal(last.Candidates, []int64{a.ID, b.ID}) || last.Rule != "hostname+domain" {
			t.Errorf("ambiguous: %+v %+v", rep.Audit, rep.Findings)
		}
		for _, c := range []struct {
			in  cmdb.NewAudit
			loc string
		}{
			{cmdb.NewAudit{Name: "", Format: reconcile.FormatCSV}, "query.name"},
			{cmdb.NewAudit{Name: "x", Scope: cmdb.AuditScope{Class: "nope"}, Format: reconcile.FormatCSV}, "query.class"},
			{cmdb.NewAudit{Name: "x", Rules: []reconcile.Rule{{Name: "r", Fields: []string{"colour"}}}, Format: reconcile.FormatCSV}, "query.rules"},
			{cmdb.NewAudit{Name: "x", Compare: []string{"colour"}, Format: reconcile.FormatCSV}, "query.compare"},
			{cmdb.NewAudit{Name: "x", Format: "xml", Source: strings.NewReader("")}, "query.format"},
			{cmdb.NewAudit{Name: "x", Format: reconcile.FormatCSV, Source: strings.NewReader("a,b\n1\n")}, "row 2"},
		} {
			_, err := e.svc.RunAudit(e.mgr, c.in)
			if got := ctlLocations(err); len(got) != 1 || got[0] != c.loc {
				t.Errorf("%+v: %v, want %s", c.in, err, c.loc)
			}
		}
	})
}

// TestAuditAPI runs, lists and reads audits over HTTP.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		a := newCtlAPI(e)
		lib, str := a.Token(e.librarian), a.Token(e.stranger)
		newAuditFixture(e)
		var rep cmdb.AuditReport
		a.do(http.MethodPost, "/api/v1/audits?name=scan&class=server&dryRun=true", lib, "text/csv", discoveryCSV).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.ID != 0 || rep.Missing != 1 {
			t.Fatalf("dry run %+v", rep)
		}
		a.do(http.MethodPost, "/api/v1/audits?name=scan", str, "text/csv", discoveryCSV).Want(t, http.StatusForbidden)
		r := a.do(http.MethodPost, "/api/v1/audits?name=scan&class=server", lib, "text/csv", "serial_number,colour\nSN1,red\n").Want(t, http.StatusUnprocessableEntity)
		var p ctlProblem
		r.Decode(t, &p)
		if len(p.Errors) != 1 || p.Errors[0].Location != "columns" || !strings.Contains(p.Detail, "colour") {
			t.Errorf("unknown column: %s", r.Body)
		}
		a.do(http.MethodPost, "/api/v1/audits?name=scan", lib, "application/octet-stream", discoveryCSV).Want(t, http.StatusUnprocessableEntity)
		a.do(http.MethodPost, "/api/v1/audits?name=scan&rules=serial_number;", lib, "text/csv", discoveryCSV).Want(t, http.StatusUnprocessableEntity)
		a.do(http.MethodPost, "/api/v1/audits?name=scan&class=server&remediate=true&source=scan.csv&format=csv&rules=serial_number;hostname%2Bdomain&compare=os",
			lib, "application/octet-stream", discoveryCSV).Want(t, http.StatusCreated).Decode(t, &rep)
		if rep.TasksOpened != 4 || rep.SourceName != "scan.csv" || rep.Mismatched != 1 {
			t.Fatalf("audit %+v", rep)
		}
		r = a.do(http.MethodPost, "/api/v1/audits?name=scan2&class=server&format=json&compare=os,cpu_count", lib, "application/octet-stream",
			`[{"serial_number": "SN2", "os": "Linux", "cpu_count": 9}]`).Want(t, http.StatusCreated)
		r.Decode(t, &rep)
		if rep.ID == 0 || rep.Mismatched != 1 || rep.Missing != 3 || rep.Findings[0].Differences[0].Field != "cpu_count" {
			t.Fatalf("audit %+v", rep)
		}
		var list listing.Page[cmdb.Audit]
		r = a.do(http.MethodGet, "/api/v1/audits?limit=1", str, "", nil).Want(t, http.StatusOK)
		r.Decode(t, &list)
		if r.Header.Get("X-Total-Count") != "2" || list.Items[0].ID != rep.ID || r.Header.Get("Link") == "" {
			t.Errorf("list %s %v", r.Body, r.Header)
		}
		var one cmdb.Audit
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/audits/%d", rep.ID), str, "", nil).Want(t, http.StatusOK).Decode(t, &one)
		if one.Name != "scan2" || !slices.Equal(one.Compare, []string{"os", "cpu_count"}) {
			t.Errorf("audit %+v", one)
		}
		var fs listing.Page[cmdb.AuditFinding]
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/audits/%d/findings?kind=mismatched", rep.ID), str, "", nil).Want(t, http.StatusOK).Decode(t, &fs)
		if len(fs.Items) != 1 || fs.Items[0].CI == nil || fs.Items[0].CI.Name != "web2" {
			t.Errorf("findings %+v", fs.Items)
		}
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/audits/%d/findings?kind=odd", rep.ID), str, "", nil).Want(t, http.StatusUnprocessableEntity)
		a.do(http.MethodGet, "/api/v1/audits/999/findings", str, "", nil).Want(t, http.StatusNotFound)
	})
}
