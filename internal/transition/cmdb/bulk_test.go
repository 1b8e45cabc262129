package cmdb_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
	"steward/internal/transition/cmdb/reconcile"
)

func (e *ctlEnv) importCSV(ctx context.Context, file string, dry bool, ref string) (cmdb.ImportReport, error) {
	return e.svc.ImportCIs(ctx, cmdb.ImportOptions{Format: reconcile.FormatCSV, Source: strings.NewReader(file), SourceName: "cis.csv", DryRun: dry, ChangeRef: ref})
}

func (e *ctlEnv) mustImport(ctx context.Context, file string, dry bool, ref string) cmdb.ImportReport {
	e.t.Helper()
	rep, err := e.importCSV(ctx, file, dry, ref)
	if err != nil {
		e.t.Fatalf("import: %v (%+v)", err, rep.Errors)
	}
	return rep
}

func importCounts(r cmdb.ImportReport) [4]int {
	return [4]int{r.Rows, r.Created, r.Updated, r.Unchanged}
}

// importServersCSV is a first import: two servers found by serial number later, a
// virtual one by host name and domain.
const importServersCSV = `class,name,status,serial_number,hostname,domain,os,cpu_count,memory_gb,asset_tag
server,web1,operational,SN1,web1,ex.com,Linux,4,16,AT1
server,web2,,SN2,web2,ex.com,Linux,8,32.5,
virtual_server,vm1,build,,vm1,ex.com,Linux,2,,
`

// TestImportCIs imports servers (a dry run first), imports the file again
// with a change (it updates, keeps history and flags the change, or not when
// an approved change covers it), and refuses files with bad rows whole.
func TestImportCIs(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		before := e.count(`SELECT COUNT(*) FROM cis`)
		dry := e.mustImport(e.lib, importServersCSV, true, "")
		if importCounts(dry) != [4]int{3, 3, 0, 0} || dry.Applied || !dry.DryRun || e.count(`SELECT COUNT(*) FROM cis`) != before {
			t.Fatalf("dry run %+v", dry)
		}
		rep := e.mustImport(e.lib, importServersCSV, false, "")
		if importCounts(rep) != [4]int{3, 3, 0, 0} || !rep.Applied || rep.SHA256 != dry.SHA256 || len(rep.SHA256) != 64 {
			t.Fatalf("import %+v", rep)
		}
		page, _, err := e.svc.ListCIs(e.str, cmdb.CIFilter{Attr: "serial_number", Value: "sn1"}, listing.Params{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("find by serial: %+v %v", page.Items, err)
		}
		web1 := page.Items[0]
		if web1.Name != "web1" || web1.Class != "server" || web1.Attrs["cpu_count"] != int64(4) || web1.Attrs["asset_tag"] != "AT1" ||
			web1.CreatedBy != e.librarian.ID || web1.Marking != "UNCLASSIFIED" || web1.MinUp != 1 {
			t.Errorf("web1 %+v", web1)
		}
		vms, _, _ := e.svc.ListCIs(e.str, cmdb.CIFilter{Class: "virtual_server"}, listing.Params{})
		if len(vms.Items) != 1 || vms.Items[0].Status != cmdb.StatusBuild {
			t.Errorf("vm %+v", vms.Items)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ci.import' AND changes LIKE '%firstCreatedId%' AND changes LIKE '%lastCreatedId%'`); n != 1 {
			t.Errorf("%d import audit entries naming the ids given", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ci.create'`); n != 0 {
			t.Errorf("%d create audit entries", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM outbox_events WHERE type = 'ci.imported'`) + e.count(`SELECT COUNT(*) FROM outbox_events WHERE type = 'ci.created'`); n != 1 {
			t.Errorf("%d events", n)
		}

		// The same file again, web1 on another OS: an update, not a duplicate.
		e.clock.Advance(time.Hour)
		again := strings.Replace(importServersCSV, "ex.com,Linux,4", "ex.com,Windows,4", 1)
		rep = e.mustImport(e.mgr, again, false, "")
		if importCounts(rep) != [4]int{3, 0, 1, 2} || len(rep.Updates) != 1 || rep.Updates[0].CIID != web1.ID ||
			rep.Updates[0].Changes[0].Field != "attributes.os" || rep.Updates[0].Line != 2 {
			t.Fatalf("re-import %+v", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM cis`); n != before+3 {
			t.Errorf("%d CIs after re-import, want %d", n, before+3)
		}
		vs, err := e.svc.Versions(e.str, web1.ID)
		if err != nil || len(vs) != 2 || vs[0].CI.Attrs["os"] != "Windows" || vs[1].CI.Attrs["os"] != "Linux" || vs[0].ChangedBy != e.manager.ID {
			t.Errorf("history %+v %v", vs, err)
		}
		flags, _, _ := e.svc.UnauthorisedChanges(e.str, cmdb.UnauthorisedFilter{CIID: web1.ID}, listing.Params{})
		if len(flags.Items) != 1 || !strings.Contains(flags.Items[0].What, "attributes.os") || flags.Items[0].CIVersion != 2 {
			t.Errorf("flags %+v", flags.Items)
		}
		// Under an approved change: updated, not flagged.
		e.svc.SetChangeAuthority(&ctlApproving{ref: "CHG0001"})
		rep = e.mustImport(e.mgr, strings.Replace(again, "web2,ex.com,Linux", "web2,ex.com,BSD", 1), false, "CHG0001")
		if importCounts(rep) != [4]int{3, 0, 1, 2} {
			t.Fatalf("approved import %+v", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM ci_unauthorised_changes`); n != 1 {
			t.Errorf("%d flags, want still 1", n)
		}

		// Bad rows: nothing of the file is applied, every problem is named.
		n := e.count(`SELECT COUNT(*) FROM cis`)
		for _, c := range []struct {
			name, file string
			locs       []string
		}{
			{"wrong type", "class,name,cpu_count\nserver,ok1,2\nserver,bad1,four\n", []string{"row 3.attributes.cpu_count"}},
			{"unique held", "class,name,asset_tag\nserver,dup,at1\n", []string{"row 2.attributes.asset_tag"}},
			{"unique twice", "class,name,asset_tag\nserver,a,AT7\nserver,b,at7\n", []string{"row 3.attributes.asset_tag"}},
			{"same serial twice", "class,name,serial_number\nserver,a,SN7\nserver,b,SN7\n", []string{"row 3"}},
			{"another class", "class,name,serial_number\nnetwork_device,sw,SN1\n", []string{"row 2.class"}},
			{"no class", "name\norphan\n", []string{"row 2.class"}},
			{"abstract", "class,name\nservice,h\n", []string{"row 2.class"}},
			{"lifecycle", fmt.Sprintf("id,status\n%d,planned\n", web1.ID), []string{"row 2.status"}},
			{"no such CI", "id,name\n99999,x\n", []string{"row 2.id"}},
			{"required and core", "class,name,status,minUp,marking,hypervisor\nvirtual_server,,gone,0,secret,99999\n",
				[]string{"row 2.attributes.hypervisor", "row 2.marking", "row 2.minUp", "row 2.name", "row 2.status"}},
			{"updated twice", fmt.Sprintf("id,name\n%d,x\n%d,y\n", web1.ID, web1.ID), []string{"row 3"}},
		} {
			rep, err := e.importCSV(e.mgr, c.file, false, "")
			if err == nil {
				t.Fatalf("%s: imported %+v", c.name, rep)
			}
			ce := ctlWantKind(t, err, errs.Invalid)
			if got := ctlLocations(err); !slices.Equal(got, c.locs) {
				t.Errorf("%s: %v, want %v (%s)", c.name, got, c.locs, ce.Error())
			}
			if rep.Applied || rep.ErrorCount != len(c.locs) || len(rep.Errors) != len(c.locs) {
				t.Errorf("%s: report %+v", c.name, rep)
			}
		}
		if m := e.count(`SELECT COUNT(*) FROM cis`); m != n {
			t.Errorf("%d CIs after refused files, want %d", m, n)
		}
		_, err = e.importCSV(e.mgr, "class,name,colour,weight\nserver,x,red,1\n", false, "")
		ue := ctlWantKind(t, err, errs.Invalid)
		if len(ue.Fields) != 2 || ue.Fields[0].Value != "colour" || ue.Fields[1].Value != "weight" {
			t.Errorf("unknown columns %+v", ue.Fields)
		}
		_, err = e.importCSV(e.str, importServersCSV, true, "")
		ctlWantKind(t, err, errs.Forbidden)
		_, err = e.svc.ImportCIs(e.mgr, cmdb.ImportOptions{Format: reconcile.FormatCSV, Source: strings.NewReader(importServersCSV),
			Rules: []reconcile.Rule{{Name: "os", Fields: []string{"os"}}}})
		if got := ctlLocations(err); !slices.Equal(got, []string{"rules"}) {
			t.Errorf("rule on a field that is not indexed: %v", err)
		}
	})
}

// TestImportRelations relates CIs by name and id, and refuses bad rows whole.
func TestImportRelations(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		web1, web2, db1 := e.ci("server", "web1", nil), e.ci("server", "web2", nil), e.ci("database", "db1", nil)
		e.ci("server", "dup", nil)
		e.ci("application", "dup", nil)
		e.relate(web2.ID, "runs_on", web1.ID)
		imp := func(ctx context.Context, file string, dry bool) (cmdb.RelationImportReport, error) {
			return e.svc.ImportRelations(ctx, cmdb.RelationImportOptions{Format: reconcile.FormatCSV, Source: strings.NewReader(file), DryRun: dry})
		}
		// By name (with a class where the name is not unique) or by id; a
		// repeated row and an existing relation are unchanged.
		file := fmt.Sprintf(`source_name,source_class,source_id,type,target_name,target_class
web1,,,depends_on,db1,
,,%d,depends_on,db1,software
web1,,,depends_on,db1,
web2,,,runs_on,web1,
dup,%s,,depends_on,dup,application
`, web2.ID, "%s")
		_, err := imp(e.mgr, fmt.Sprintf(file, ""), true)
		if got := ctlLocations(err); !slices.Equal(got, []string{"row 6.source_name"}) {
			t.Fatalf("ambiguous name: %v", err)
		}
		file = fmt.Sprintf(file, "server")
		rep, err := imp(e.mgr, file, true)
		if err != nil || rep.Created != 3 || rep.Unchanged != 2 || rep.Applied {
			t.Fatalf("dry run %+v %v", rep, err)
		}
		if rep, err = imp(e.lib, file, false); err != nil || rep.Created != 3 || !rep.Applied {
			t.Fatalf("import %+v %v", rep, err)
		}
		rels, _ := e.svc.Relations(e.str, web1.ID, time.Time{})
		if len(rels.Outgoing) != 1 || rels.Outgoing[0].TargetID != db1.ID || rels.Outgoing[0].Type != "depends_on" {
			t.Errorf("web1 relations %+v", rels.Outgoing)
		}
		if n := e.count(`SELECT COUNT(*) FROM ci_unauthorised_changes WHERE what LIKE 'import: relations added%'`); n != 3 {
			t.Errorf("%d flags, want one per source CI", n)
		}
		if rep, err = imp(e.lib, file, false); err != nil || rep.Created != 0 || rep.Unchanged != 5 {
			t.Errorf("again %+v %v", rep, err)
		}
		n := e.count(`SELECT COUNT(*) FROM ci_relations`)
		bad := fmt.Sprintf("source_id,type,target_id,target_name\n%d,depends_on,%d,\n%d,likes,%d,\n%d,depends_on,%d,\n%d,depends_on,,nobody\n,depends_on,%d,\n%d,depends_on,%d,web1\n",
			web1.ID, web2.ID, web1.ID, web2.ID, web1.ID, web1.ID, web1.ID, web1.ID, web2.ID, db1.ID)
		_, err = imp(e.mgr, bad, false)
		want := []string{"row 3.type", "row 4.target_id", "row 5.target_name", "row 6.source_id", "row 7.target_name"}
		if got := ctlLocations(err); !slices.Equal(got, want) {
			t.Errorf("bad rows %v, want %v", got, want)
		}
		if m := e.count(`SELECT COUNT(*) FROM ci_relations`); m != n {
			t.Errorf("%d relations after a refused file, want %d", m, n)
		}
		_, err = imp(e.str, file, true)
		ctlWantKind(t, err, errs.Forbidden)
	})
}

// TestExportImportRoundTrip exports CIs and relations as CSV and JSON and
// imports them back: nothing changes. The marking is on the first line.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		web := e.ci("server", "=cmd|' /C calc'!A0", cmdb.Attrs{"serial_number": "SN1", "memory_gb": 16, "cpu_count": 4, "os": "-Linux",
			"description": "two\nlines, \"quoted\"", "asset_tag": "'AT1"})
		vm := e.ci("virtual_server", "vm", cmdb.Attrs{"hypervisor": web.ID, "memory_gb": 4.5, "environment": "production"})
		if _, err := e.svc.CreateCI(e.mgr, cmdb.NewCI{Class: "database", Name: "secret db", Marking: "SECRET//NOFORN", Attrs: cmdb.Attrs{"port": 5432}}); err != nil {
			t.Fatal(err)
		}
		svc, err := e.svc.CreateService(e.mgr, cmdb.NewService{Name: "Payroll", Kind: "business"})
		if err != nil {
			t.Fatal(err)
		}
		e.relate(vm.ID, "runs_on", web.ID)
		e.relate(svc.ID, "depends_on", vm.ID)
		total := e.count(`SELECT COUNT(*) FROM cis`)

		var csv, js bytes.Buffer
		if err := e.svc.ExportCIs(e.str, &csv, cmdb.ExportOptions{Format: reconcile.FormatCSV}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(csv.String(), "\n"), "\n")
		if lines[0] != "SECRET//NOFORN" || lines[len(lines)-1] != "SECRET//NOFORN" || !strings.HasPrefix(lines[1], "id,class,name,status,marking,minUp,address,asset_tag,") {
			t.Fatalf("CSV export:\n%s", csv.String())
		}
		if !strings.Contains(csv.String(), `,'=cmd|' /C calc'!A0,`) || !strings.Contains(csv.String(), ",'-Linux,") || !strings.Contains(csv.String(), ",''AT1,") {
			t.Errorf("formula-like text is not defused:\n%s", csv.String())
		}
		if err := e.svc.ExportCIs(e.str, &js, cmdb.ExportOptions{Format: reconcile.FormatJSON, Banner: "UNCLASSIFIED//FOUO"}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(js.String(), `{"classification":"UNCLASSIFIED//FOUO","items":[`+"\n{\"id\":") {
			t.Fatalf("JSON export:\n%s", js.String())
		}
		for _, f := range []struct {
			format reconcile.Format
			data   []byte
		}{{reconcile.FormatCSV, csv.Bytes()}, {reconcile.FormatJSON, js.Bytes()}} {
			rep, err := e.svc.ImportCIs(e.mgr, cmdb.ImportOptions{Format: f.format, Source: bytes.NewReader(f.data)})
			if err != nil {
				t.Fatalf("%s: %v %+v", f.format, err, rep.Errors)
			}
			if rep.Rows != int(total) || rep.Unchanged != int(total) || rep.Created+rep.Updated != 0 {
				t.Errorf("%s round trip: %+v", f.format, rep)
			}
		}
		// A filtered export has its class's attributes only.
		var importServersCSV bytes.Buffer
		if err := e.svc.ExportCIs(e.str, &importServersCSV, cmdb.ExportOptions{Format: reconcile.FormatCSV, Filter: cmdb.CIFilter{Class: "server", Name: "v"}}); err != nil {
			t.Fatal(err)
		}
		lines = strings.Split(strings.TrimSpace(importServersCSV.String()), "\n")
		if len(lines) != 4 || lines[0] != "UNCLASSIFIED" || strings.Contains(lines[1], "port") || !strings.Contains(lines[1], "hypervisor") {
			t.Errorf("filtered export:\n%s", importServersCSV.String())
		}
		if err := e.svc.ExportCIs(e.str, &importServersCSV, cmdb.ExportOptions{Format: reconcile.FormatCSV, Filter: cmdb.CIFilter{Class: "nope"}}); !errs.Is(err, errs.Invalid) {
			t.Errorf("unknown class: %v", err)
		}

		for _, f := range []reconcile.Format{reconcile.FormatCSV, reconcile.FormatJSON} {
			var rels bytes.Buffer
			if err := e.svc.ExportRelations(e.str, &rels, cmdb.RelationExportOptions{Format: f}); err != nil {
				t.Fatal(err)
			}
			rep, err := e.svc.ImportRelations(e.mgr, cmdb.RelationImportOptions{Format: f, Source: &rels})
			if err != nil || rep.Rows != 2 || rep.Unchanged != 2 || rep.Created != 0 {
				t.Errorf("%s relations round trip: %+v %v", f, rep, err)
			}
		}
		var runs bytes.Buffer
		if err := e.svc.ExportRelations(e.str, &runs, cmdb.RelationExportOptions{Format: reconcile.FormatCSV, Type: "runs_on"}); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("UNCLASSIFIED\nsource_id,source_class,source_name,type,target_id,target_class,target_name\n%d,virtual_server,vm,runs_on,%d,server,'=cmd|' /C calc'!A0\nUNCLASSIFIED\n",
			vm.ID, web.ID); runs.String() != want {
			t.Errorf("relations export:\n%s\nwant\n%s", runs.String(), want)
		}
	})
}

// TestBulkAPI imports and exports over HTTP.
func TestBulkAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		a := newCtlAPI(e)
		mgr, str := a.Token(e.manager), a.Token(e.stranger)
		var rep cmdb.ImportReport
		a.do(http.MethodPost, "/api/v1/cis/import?dryRun=true", mgr, "text/csv", importServersCSV).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Created != 3 || rep.Applied {
			t.Fatalf("dry run %+v", rep)
		}
		a.do(http.MethodPost, "/api/v1/cis/import", str, "text/csv", importServersCSV).Want(t, http.StatusForbidden)
		a.do(http.MethodPost, "/api/v1/cis/import?source=servers.csv", mgr, "text/csv", importServersCSV).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Created != 3 || !rep.Applied || rep.Source != "servers.csv" {
			t.Fatalf("import %+v", rep)
		}
		r := a.do(http.MethodPost, "/api/v1/cis/import", mgr, "text/csv", "class,name,cpu_count\nserver,x,many\n").Want(t, http.StatusUnprocessableEntity)
		var p ctlProblem
		r.Decode(t, &p)
		if len(p.Errors) != 1 || p.Errors[0].Location != "row 2.attributes.cpu_count" {
			t.Errorf("bad row: %s", r.Body)
		}
		a.do(http.MethodPost, "/api/v1/cis/import?format=json", mgr, "application/json", `[{"class": "server", "name": "js", "cpu_count": 2}]`).
			Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Created != 1 {
			t.Errorf("JSON import %+v", rep)
		}
		a.do(http.MethodPost, "/api/v1/cis/import?rules=os", mgr, "text/csv", importServersCSV).Want(t, http.StatusUnprocessableEntity)
		a.do(http.MethodPost, "/api/v1/cis/import", mgr, "application/octet-stream", importServersCSV).Want(t, http.StatusUnprocessableEntity)

		r = a.do(http.MethodGet, "/api/v1/cis/export?class=server", str, "", nil).Want(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "cis.csv") ||
			!strings.HasPrefix(string(r.Body), "UNCLASSIFIED\nid,class,") || strings.Count(string(r.Body), "\n") != 7 {
			t.Errorf("export %v:\n%s", r.Header, r.Body)
		}
		a.do(http.MethodPost, "/api/v1/cis/import?dryRun=true", mgr, "text/csv", r.Body).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Unchanged != 4 || rep.Created+rep.Updated != 0 {
			t.Errorf("round trip %+v", rep)
		}
		a.do(http.MethodGet, "/api/v1/cis/export?class=nope", str, "", nil).Want(t, http.StatusUnprocessableEntity)
		a.do(http.MethodGet, "/api/v1/cis/export?format=xml", str, "", nil).Want(t, http.StatusUnprocessableEntity)

		var rr cmdb.RelationImportReport
		a.do(http.MethodPost, "/api/v1/relations/import", mgr, "text/csv", "source_name,type,target_name\nvm1,runs_on,web1\n").
			Want(t, http.StatusOK).Decode(t, &rr)
		if rr.Created != 1 {
			t.Errorf("relation import %+v", rr)
		}
		r = a.do(http.MethodGet, "/api/v1/relations/export?format=json&type=runs_on", str, "", nil).Want(t, http.StatusOK)
		if r.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(r.Body), `"type":"runs_on"`) {
			t.Errorf("relations export %v %s", r.Header, r.Body)
		}
		a.do(http.MethodPost, "/api/v1/relations/import?format=json", mgr, "application/json", r.Body).Want(t, http.StatusOK).Decode(t, &rr)
		if rr.Unchanged != 1 || rr.Created != 0 {
			t.Errorf("relations round trip %+v", rr)
		}
		a.do(http.MethodGet, "/api/v1/relations/export?type=likes", str, "", nil).Want(t, http.StatusUnprocessableEntity)
	})
}

// BenchmarkImportCIs imports 100,000 new servers from CSV on SQLite and
// reports the rate, and the process CPU time per import (steadier than the
// rate on a shared machine).
func BenchmarkImportCIs(b *testing.B) {
	const n = 100_000
	var file bytes.Buffer
	file.WriteString("class,name,serial_number,hostname,domain,os,cpu_count,memory_gb,asset_tag\n")
	for i := range n {
		fmt.Fprintf(&file, "server,srv-%06d,SN%08d,host%06d,ex.com,Linux,%d,%d.5,AT%08d\n", i, i, i, i%64+1, i%512, i)
	}
	var took, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newCtlEnv(b, dbtest.Open(b, db.SQLite))
		b.StartTimer()
		start, startCPU := time.Now(), cpuTime()
		rep, err := e.svc.ImportCIs(e.mgr, cmdb.ImportOptions{Format: reconcile.FormatCSV, Source: bytes.NewReader(file.Bytes())})
		took, cpu = took+time.Since(start), cpu+cpuTime()-startCPU
		if err != nil || rep.Created != n {
			b.Fatalf("import: %v %+v", err, rep.Errors)
		}
	}
	b.ReportMetric(float64(n*b.N)/took.Seconds(), "CIs/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the user and system CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestImportCrossRowErrors refuses files whose rows each pass their own
// checks, so that their writing begins before the checks across rows find
// the problem: nothing is written, the problem is reported as for any file,
// and a caller who may not import is told about the file first.
func TestImportCrossRowErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		e.ci("server", "held", cmdb.Attrs{"asset_tag": "HELD1"})
		servers := func(n int, last string) string {
			var b strings.Builder
			b.WriteString("class,name,serial_number,asset_tag\n")
			for i := range n - 1 {
				fmt.Fprintf(&b, "server,s%d,SER%d,TAG%d\n", i, i, i)
			}
			b.WriteString(last + "\n")
			return b.String()
		}
		const n = 3000 // several statements of each table
		cis, values := e.count(`SELECT COUNT(*) FROM cis`), e.count(`SELECT COUNT(*) FROM ci_attr_values`)
		for _, c := range []struct {
			name, file string
			locs       []string
		}{
			{"same serial as row 7", servers(n, "server,last,SER5,TAGX"), []string{fmt.Sprintf("row %d", n+1)}},
			{"asset tag of another CI", servers(n, "server,last,SERX,held1"), []string{fmt.Sprintf("row %d.attributes.asset_tag", n+1)}},
			{"asset tag of row 2", servers(n, "server,last,SERX,tag0"), []string{fmt.Sprintf("row %d.attributes.asset_tag", n+1)}},
		} {
			rep, err := e.importCSV(e.mgr, c.file, false, "")
			ctlWantKind(t, err, errs.Invalid)
			if got := ctlLocations(err); !slices.Equal(got, c.locs) || rep.Applied || rep.Created != 0 {
				t.Errorf("%s: %v %+v, want %v", c.name, got, rep, c.locs)
			}
		}
		if a, b := e.count(`SELECT COUNT(*) FROM cis`), e.count(`SELECT COUNT(*) FROM ci_attr_values`); a != cis || b != values {
			t.Errorf("%d CIs and %d index rows after refused files, want %d and %d", a, b, cis, values)
		}
		if rep := e.mustImport(e.mgr, servers(n, "server,last,SERX,TAGX"), false, ""); rep.Created != n {
			t.Errorf("fixed file %+v", rep)
		}

		// A caller without the right to import: an invalid file is Invalid and
		// audits no refusal; a valid one is Forbidden, and the refusal audited.
		denied := func() int64 { return e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied'`) }
		before := denied()
		_, err := e.importCSV(e.str, "class,name,asset_tag\nserver,a,NEW7\nserver,b,new7\n", false, "")
		ctlWantKind(t, err, errs.Invalid)
		if denied() != before {
			t.Errorf("a refusal was audited for an invalid file")
		}
		_, err = e.importCSV(e.str, "class,name,asset_tag\nserver,a,NEW7\n", false, "")
		ctlWantKind(t, err, errs.Forbidden)
		if denied() != before+1 {
			t.Errorf("the refusal was not audited")
		}
	})
}

// TestImportManyRows imports a file large enough to be checked in parallel:
// errors anywhere are all reported in line order, and once fixed the file
// imports, then imports again unchanged.
func TestImportManyRows(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		const n = 6000
		var b strings.Builder
		b.WriteString("class,name,serial_number,cpu_count\n")
		for i := range n {
			cpus := fmt.Sprint(i%16 + 1)
			if i == 10 || i == n-10 {
				cpus = "lots"
			}
			fmt.Fprintf(&b, "server,s%d,SER%d,%s\n", i, i, cpus)
		}
		_, err := e.importCSV(e.mgr, b.String(), false, "")
		if got := ctlLocations(err); !slices.Equal(got, []string{"row 12.attributes.cpu_count", fmt.Sprintf("row %d.attributes.cpu_count", n-8)}) {
			t.Fatalf("errors %v", got)
		}
		fixed := strings.ReplaceAll(b.String(), "lots", "2")
		if rep := e.mustImport(e.mgr, fixed, false, ""); rep.Created != n {
			t.Fatalf("import %+v", rep)
		}
		if rep := e.mustImport(e.mgr, fixed, false, ""); rep.Unchanged != n || rep.Created+rep.Updated != 0 {
			t.Fatalf("again %+v", rep)
		}
	})
}

// FuzzImportCIs feeds arbitrary files to a dry-run import: it never fails
// with anything but a classified error, however broken the file.
func FuzzImportCIs(f *testing.F) {
	for _, s := range []string{importServersCSV, "class,name\nserver,a\n", "UNCLASSIFIED\nid,name\n1,x\nUNCLASSIFIED\n", "\"a\nb\",c\n",
		"class,name,memory_gb,hypervisor\nvirtual_server,\x00,NaN,-1\n", `[{"class":"server","name":"x","cpu_count":1e999}]`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	e := newCtlEnv(f, dbtest.Open(f, db.SQLite))
	e.ci("server", "existing", cmdb.Attrs{"serial_number": "SN1", "asset_tag": "AT1"})
	f.Fuzz(func(t *testing.T, file string, asJSON bool) {
		format := reconcile.FormatCSV
		if asJSON {
			format = reconcile.FormatJSON
		}
		_, err := e.svc.ImportCIs(e.mgr, cmdb.ImportOptions{Format: format, Source: strings.NewReader(file), DryRun: true})
		if err != nil && errs.KindOf(err) == errs.Internal {
			t.Fatalf("internal error for %q: %v", file, err)
		}
	})
}
