package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/platform/db"
)

// cmdbWorld is a running Steward with a configuration analyst (R for CfM2,
// CfM3 and CfM5 in the default matrix) and a configuration manager.
type cmdbWorld struct {
	h                 *harness
	analyst, stranger string
	managerID         int64
	ownerID           int64
}

func newCMDBWorld(t *testing.T, e db.Engine) *cmdbWorld {
	h := newHarness(t, e)
	w := &cmdbWorld{h: h}
	an, anTok := h.user(t, "cfg-analyst", false)
	mg, _ := h.user(t, "cfg-manager", false)
	ow, _ := h.user(t, "svc-owner", false)
	_, w.stranger = h.user(t, "cfg-stranger", false)
	w.analyst, w.managerID, w.ownerID = anTok, mg.ID, ow.ID
	for _, a := range []map[string]any{
		{"subject": "CfM", "role": "process-analyst", "userId": an.ID},
		{"subject": "CfM", "role": "process-manager", "userId": mg.ID},
	} {
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/role-assignments", Token: h.Admin, JSON: a}).want(t, http.StatusCreated)
	}
	return w
}

type ciOut struct {
	ID         int64          `json:"id"`
	Class      string         `json:"class"`
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Version    int64          `json:"version"`
	Attributes map[string]any `json:"attributes"`
}

func (w *cmdbWorld) ci(t *testing.T, class, name string, attrs map[string]any, extra ...map[string]any) ciOut {
	t.Helper()
	body := map[string]any{"class": class, "name": name}
	if attrs != nil {
		body["attributes"] = attrs
	}
	for _, x := range extra {
		for k, v := range x {
			body[k] = v
		}
	}
	var c ciOut
	w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/cis", Token: w.analyst, JSON: body}).want(t, http.StatusCreated).decode(t, &c)
	return c
}

func (w *cmdbWorld) relate(t *testing.T, src int64, typ string, dst int64) {
	t.Helper()
	w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/cis/" + itoa(src) + "/relations", Token: w.analyst,
		JSON: map[string]any{"type": typ, "targetId": dst}}).want(t, http.StatusCreated)
}

type impactOut struct {
	Down     int `json:"down"`
	Degraded int `json:"degraded"`
	Services []struct {
		ID       int64    `json:"id"`
		Name     string   `json:"name"`
		State    string   `json:"state"`
		Partners []string `json:"missionPartners"`
	} `json:"services"`
	MissionPartners []string `json:"missionPartners"`
	Nodes           []struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		State       string `json:"state"`
		Depth       int    `json:"depth"`
		MembersDown int    `json:"membersDown"`
		Members     int    `json:"members"`
	} `json:"nodes"`
}

func (o impactOut) states() map[string]string {
	m := map[string]string{}
	for _, n := range o.Nodes {
		m[n.Name] = n.State
	}
	return m
}

// TestScenarioServiceWithCITree builds a mission service on a CI tree, then
// asks what an outage reaches: one cluster member degrades the cluster and
// everything above it; two fail it; the switch fails everything; a
// dependency cycle is walked once; upstream lists what the service rests on.
func TestScenarioServiceWithCITree(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newCMDBWorld(t, e)
		h := w.h
		site := w.ci(t, "location", "Norfolk DC", map[string]any{"site_code": "NDC"})
		sw := w.ci(t, "network_device", "sw-core-1", map[string]any{"device_type": "switch", "serial_number": "SW-0001"})
		var servers []ciOut
		for i := 1; i <= 3; i++ {
			s := w.ci(t, "server", "db-node-"+strconv.Itoa(i), map[string]any{"serial_number": "SRV-000" + strconv.Itoa(i),
				"hostname": "db-node-" + strconv.Itoa(i), "domain": "navy.mil", "cpu_count": 16, "memory_gb": 128.5})
			servers = append(servers, s)
			w.relate(t, s.ID, "depends_on", sw.ID)
			w.relate(t, s.ID, "located_at", site.ID)
		}
		cluster := w.ci(t, "cluster", "db-cluster", map[string]any{"cluster_type": "database"}, map[string]any{"minUp": 2})
		for _, s := range servers {
			w.relate(t, s.ID, "member_of", cluster.ID)
		}
		dbase := w.ci(t, "database", "logistics-db", map[string]any{"engine": "postgresql", "port": 5432})
		w.relate(t, dbase.ID, "runs_on", cluster.ID)
		app := w.ci(t, "application", "logistics-app", nil)
		w.relate(t, app.ID, "depends_on", dbase.ID)
		w.relate(t, dbase.ID, "depends_on", app.ID) // a cycle: handled, not refused

		var svc struct {
			ID       int64    `json:"id"`
			Kind     string   `json:"kind"`
			Partners []string `json:"missionPartners"`
			Owner    *struct {
				ID int64 `json:"id"`
			} `json:"owner"`
			Manager *struct {
				ID int64 `json:"id"`
			} `json:"manager"`
			Criticality string `json:"criticality"`
		}
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/services", Token: w.analyst, JSON: map[string]any{
			"name": "Fleet Logistics", "kind": "business", "criticality": "mission_critical",
			"ownerId": w.ownerID, "managerId": w.managerID, "missionPartners": []string{"US Fleet Forces", "Joint Staff J4"},
		}}).want(t, http.StatusCreated).decode(t, &svc)
		if svc.Kind != "business" || svc.Owner == nil || svc.Owner.ID != w.ownerID || svc.Manager == nil || svc.Manager.ID != w.managerID ||
			!slices.Equal(svc.Partners, []string{"Joint Staff J4", "US Fleet Forces"}) {
			t.Fatalf("service = %+v", svc)
		}
		// The owner holds the service-owner role, scoped to the service.
		var holders struct {
			Items []struct {
				Role  string `json:"role"`
				Scope struct {
					ServiceID int64 `json:"serviceId"`
				} `json:"scope"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/role-assignments?userId="+itoa(w.ownerID), h.Admin).want(t, http.StatusOK).decode(t, &holders)
		if len(holders.Items) != 1 || holders.Items[0].Role != "service-owner" || holders.Items[0].Scope.ServiceID != svc.ID {
			t.Errorf("owner's role assignments = %+v", holders)
		}
		w.relate(t, app.ID, "provides", svc.ID)

		var one impactOut
		h.get(t, "/api/v1/cis/"+itoa(servers[0].ID)+"/impact?direction=down", w.stranger).want(t, http.StatusOK).decode(t, &one)
		st := one.states()
		want := map[string]string{"db-node-1": "down", "db-cluster": "degraded", "logistics-db": "degraded", "logistics-app": "degraded", "Fleet Logistics": "degraded"}
		for k, v := range want {
			if st[k] != v {
				t.Errorf("one member down: %s is %q, want %q (all: %v)", k, st[k], v, st)
			}
		}
		if len(one.Nodes) != len(want) {
			t.Errorf("one member down reaches %d CIs, want %d: %v", len(one.Nodes), len(want), st)
		}
		if len(one.Services) != 1 || one.Services[0].State != "degraded" || !slices.Equal(one.MissionPartners, []string{"Joint Staff J4", "US Fleet Forces"}) {
			t.Errorf("services %+v partners %v", one.Services, one.MissionPartners)
		}

		var two impactOut
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/impact/simulate", Token: w.stranger,
			JSON: map[string]any{"cis": []int64{servers[0].ID, servers[1].ID}}}).want(t, http.StatusOK).decode(t, &two)
		st = two.states()
		for _, k := range []string{"db-cluster", "logistics-db", "logistics-app", "Fleet Logistics"} {
			if st[k] != "down" {
				t.Errorf("two members down: %s is %q, want down", k, st[k])
			}
		}
		for _, n := range two.Nodes {
			if n.Name == "db-cluster" && (n.MembersDown != 2 || n.Members != 3) {
				t.Errorf("cluster members down %d/%d, want 2/3", n.MembersDown, n.Members)
			}
		}

		var all impactOut
		h.get(t, "/api/v1/cis/"+itoa(sw.ID)+"/impact", w.stranger).want(t, http.StatusOK).decode(t, &all)
		if all.Down != 8 || all.Degraded != 0 {
			t.Errorf("switch down: %d down, %d degraded; want 8 and 0: %v", all.Down, all.Degraded, all.states())
		}
		seen := map[int64]bool{}
		for _, n := range all.Nodes {
			if seen[n.ID] {
				t.Errorf("CI %d reported twice", n.ID)
			}
			seen[n.ID] = true
		}
		// Depth limit: the switch and the servers only.
		var shallow impactOut
		h.get(t, "/api/v1/cis/"+itoa(sw.ID)+"/impact?depth=1", w.stranger).want(t, http.StatusOK).decode(t, &shallow)
		if len(shallow.Nodes) != 4 {
			t.Errorf("depth 1 reaches %v", shallow.states())
		}
		// Type filter: following only depends_on from the switch stops at the servers.
		var typed impactOut
		h.get(t, "/api/v1/cis/"+itoa(sw.ID)+"/impact?types=depends_on", w.stranger).want(t, http.StatusOK).decode(t, &typed)
		if len(typed.Nodes) != 4 {
			t.Errorf("depends_on only reaches %v", typed.states())
		}

		var up impactOut
		h.get(t, "/api/v1/cis/"+itoa(svc.ID)+"/impact?direction=up", w.stranger).want(t, http.StatusOK).decode(t, &up)
		names := map[string]bool{}
		for _, n := range up.Nodes {
			names[n.Name] = true
		}
		for _, k := range []string{"Fleet Logistics", "logistics-app", "logistics-db", "db-cluster", "db-node-1", "db-node-3", "sw-core-1", "Norfolk DC"} {
			if !names[k] {
				t.Errorf("upstream of the service lacks %s: %v", k, names)
			}
		}

		// Unknown CI, bad direction.
		h.get(t, "/api/v1/cis/999999/impact", w.stranger).want(t, http.StatusNotFound)
		h.get(t, "/api/v1/cis/"+itoa(sw.ID)+"/impact?direction=sideways", w.stranger).want(t, http.StatusUnprocessableEntity)
		h.get(t, "/api/v1/cis/"+itoa(sw.ID)+"/impact?types=nope", w.stranger).want(t, http.StatusUnprocessableEntity)
	})
}

// TestScenarioCIHistoryAndUnauthorisedChange edits a CI with no approved
// change, sees it flagged, reads it as it was before the edit, and resolves the flag.
func TestScenarioCIHistoryAndUnauthorisedChange(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newCMDBWorld(t, e)
		h := w.h
		srv := w.ci(t, "server", "web-1", map[string]any{"serial_number": "S-1", "os": "RHEL 9", "cpu_count": 4})
		peer := w.ci(t, "server", "web-2", map[string]any{"serial_number": "S-2"})
		w.relate(t, srv.ID, "depends_on", peer.ID)
		before := time.Now().UTC()
		time.Sleep(5 * time.Millisecond)

		path := "/api/v1/cis/" + itoa(srv.ID)
		// No If-Match: 428; stale: 412.
		h.do(t, req{Method: http.MethodPatch, Path: path, Token: w.analyst, JSON: map[string]any{"name": "x"}}).want(t, http.StatusPreconditionRequired)
		for _, stale := range []string{`"7"`, `"0"`} {
			h.do(t, req{Method: http.MethodPatch, Path: path, Token: w.analyst, JSON: map[string]any{"name": "x"},
				Headers: map[string]string{"If-Match": stale}}).want(t, http.StatusPreconditionFailed)
		}
		// Someone without CfM3 is refused, naming the activity.
		p := h.do(t, req{Method: http.MethodPatch, Path: path, Token: w.stranger, JSON: map[string]any{"name": "x"},
			Headers: map[string]string{"If-Match": `"1"`}}).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "CfM3") {
			t.Errorf("refusal %q does not name CfM3", p.Detail)
		}
		var edited ciOut
		h.do(t, req{Method: http.MethodPatch, Path: path, Token: w.analyst, Headers: map[string]string{"If-Match": `"1"`},
			JSON: map[string]any{"status": "maintenance", "attributes": map[string]any{"os": "RHEL 10", "cpu_count": nil}}}).
			want(t, http.StatusOK).decode(t, &edited)
		if edited.Version != 2 || edited.Status != "maintenance" || edited.Attributes["os"] != "RHEL 10" || edited.Attributes["cpu_count"] != nil {
			t.Fatalf("edited = %+v", edited)
		}
		rels := h.get(t, path+"/relations", w.analyst).want(t, http.StatusOK)
		var rr struct {
			Outgoing []struct {
				ID int64 `json:"id"`
			} `json:"outgoing"`
		}
		rels.decode(t, &rr)
		if len(rr.Outgoing) != 1 {
			t.Fatalf("relations = %s", rels.Body)
		}
		h.do(t, req{Method: http.MethodDelete, Path: path + "/relations/" + itoa(rr.Outgoing[0].ID), Token: w.analyst}).want(t, http.StatusNoContent)

		// As it was before the edit: old attributes and the ended relation.
		var then struct {
			Snapshot struct {
				CI        ciOut `json:"ci"`
				Relations struct {
					Outgoing []struct {
						TargetID int64 `json:"targetId"`
					} `json:"outgoing"`
				} `json:"relations"`
			} `json:"snapshot"`
		}
		h.get(t, path+"/history?at="+url.QueryEscape(before.Format(time.RFC3339Nano)), w.stranger).want(t, http.StatusOK).decode(t, &then)
		c := then.Snapshot.CI
		if c.Version != 1 || c.Status != "operational" || c.Attributes["os"] != "RHEL 9" || c.Attributes["cpu_count"] != float64(4) {
			t.Errorf("CI before the edit = %+v", c)
		}
		if len(then.Snapshot.Relations.Outgoing) != 1 || then.Snapshot.Relations.Outgoing[0].TargetID != peer.ID {
			t.Errorf("relations before the edit = %+v", then.Snapshot.Relations)
		}
		var now struct {
			Snapshot struct {
				CI        ciOut `json:"ci"`
				Relations struct {
					Outgoing []any `json:"outgoing"`
				} `json:"relations"`
			} `json:"snapshot"`
		}
		h.get(t, path+"/history?at="+url.QueryEscape(time.Now().UTC().Add(time.Second).Format(time.RFC3339)), w.stranger).want(t, http.StatusOK).decode(t, &now)
		if now.Snapshot.CI.Version != 2 || len(now.Snapshot.Relations.Outgoing) != 0 {
			t.Errorf("CI now = %+v", now.Snapshot)
		}
		h.get(t, path+"/history?at=2000-01-01T00:00:00Z", w.stranger).want(t, http.StatusNotFound)
		h.get(t, path+"/history?at=yesterday", w.stranger).want(t, http.StatusUnprocessableEntity)
		var versions struct {
			Versions []struct {
				Version int64 `json:"version"`
				Changes []struct {
					Field string `json:"field"`
				} `json:"changes"`
			} `json:"versions"`
		}
		h.get(t, path+"/history", w.stranger).want(t, http.StatusOK).decode(t, &versions)
		if len(versions.Versions) != 2 || versions.Versions[0].Version != 2 || len(versions.Versions[0].Changes) != 3 {
			t.Errorf("versions = %+v", versions)
		}

		// Both the edit and the ended relation were made with no approved change.
		var flags struct {
			Items []struct {
				ID   int64  `json:"id"`
				What string `json:"what"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/unauthorised-changes?open=true&ciId="+itoa(srv.ID), w.stranger).want(t, http.StatusOK).decode(t, &flags)
		if len(flags.Items) != 3 { // the relation added, the edit, the relation ended
			t.Fatalf("flags = %+v", flags)
		}
		// A named change that change management does not approve is flagged too.
		h.do(t, req{Method: http.MethodPatch, Path: path, Token: w.analyst, Headers: map[string]string{"If-Match": `"2"`},
			JSON: map[string]any{"name": "web-1a", "changeRef": "RFC0000001"}}).want(t, http.StatusOK)
		h.get(t, "/api/v1/unauthorised-changes?open=true&ciId="+itoa(srv.ID), w.stranger).want(t, http.StatusOK).decode(t, &flags)
		if len(flags.Items) != 4 {
			t.Errorf("flags after a named but unapproved change = %d, want 4", len(flags.Items))
		}
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/unauthorised-changes/" + itoa(flags.Items[0].ID) + "/resolve", Token: w.analyst,
			JSON: map[string]any{"resolution": "Authorised retrospectively by the CAB"}}).want(t, http.StatusOK)
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/unauthorised-changes/" + itoa(flags.Items[0].ID) + "/resolve", Token: w.analyst,
			JSON: map[string]any{"resolution": "again"}}).want(t, http.StatusConflict)
		if n := h.count(t, "audit_log", "action = ?", "ci.update"); n != 2 {
			t.Errorf("ci.update audit entries = %d, want 2", n)
		}
	})
}

// TestCMDBBadInput: each refusal names the attribute or rule, and writes nothing.
func TestCMDBBadInput(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newCMDBWorld(t, e)
		h := w.h
		a := w.ci(t, "server", "app-1", map[string]any{"asset_tag": "TAG-1"})
		before := h.count(t, "cis", "1 = 1")
		cases := []struct {
			name   string
			path   string
			body   map[string]any
			status int
			loc    string
		}{
			{"wrong type", "/api/v1/cis", map[string]any{"class": "server", "name": "x", "attributes": map[string]any{"cpu_count": "many"}}, 422, "body.attributes.cpu_count"},
			{"fraction for integer", "/api/v1/cis", map[string]any{"class": "server", "name": "x", "attributes": map[string]any{"cpu_count": 2.5}}, 422, "body.attributes.cpu_count"},
			{"enum", "/api/v1/cis", map[string]any{"class": "network_device", "name": "x", "attributes": map[string]any{"device_type": "toaster"}}, 422, "body.attributes.device_type"},
			{"unknown attribute", "/api/v1/cis", map[string]any{"class": "server", "name": "x", "attributes": map[string]any{"colour": "red"}}, 422, "body.attributes.colour"},
			{"abstract class", "/api/v1/cis", map[string]any{"class": "configuration_item", "name": "x"}, 422, "body.class"},
			{"unknown class", "/api/v1/cis", map[string]any{"class": "spaceship", "name": "x"}, 422, "body.class"},
			{"reference to a CI of the wrong class", "/api/v1/cis", map[string]any{"class": "virtual_server", "name": "x", "attributes": map[string]any{"hypervisor": 999999}}, 422, "body.attributes.hypervisor"},
			{"duplicate unique value", "/api/v1/cis", map[string]any{"class": "server", "name": "x", "attributes": map[string]any{"asset_tag": "tag-1"}}, 409, "body.attributes.asset_tag"},
			{"self relation", "/api/v1/cis/" + itoa(a.ID) + "/relations", map[string]any{"type": "depends_on", "targetId": a.ID}, 422, "body.targetId"},
			{"unknown relation type", "/api/v1/cis/" + itoa(a.ID) + "/relations", map[string]any{"type": "loves", "targetId": 1}, 422, "body.type"},
		}
		for _, c := range cases {
			p := h.do(t, req{Method: http.MethodPost, Path: c.path, Token: w.analyst, JSON: c.body}).problem(t, c.status)
			found := false
			for _, e := range p.Errors {
				found = found || e.Location == c.loc
			}
			if !found {
				t.Errorf("%s: problem %+v does not name %s", c.name, p, c.loc)
			}
		}
		// A required attribute, added to a new class, is enforced.
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/ci-classes", Token: h.Admin, JSON: map[string]any{
			"name": "satellite_terminal", "label": "Satellite terminal", "parent": "hardware",
			"attributes": []map[string]any{{"name": "band", "label": "Band", "type": "enum", "enum": []string{"X", "Ka", "Ku"}, "required": true}},
		}}).want(t, http.StatusCreated)
		p := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/cis", Token: w.analyst, JSON: map[string]any{"class": "satellite_terminal", "name": "st-1"}}).problem(t, 422)
		if len(p.Errors) != 1 || p.Errors[0].Location != "body.attributes.band" || !strings.Contains(p.Errors[0].Message, "required") {
			t.Errorf("missing required attribute: %+v", p)
		}
		w.ci(t, "satellite_terminal", "st-1", map[string]any{"band": "Ka", "serial_number": "ST-1"})
		if got := h.count(t, "cis", "1 = 1"); got != before+1 {
			t.Errorf("CIs = %d, want %d: a refused request wrote something", got, before+1)
		}
		// Only CfM1 holders may change the class model.
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/ci-classes", Token: w.analyst, JSON: map[string]any{"name": "x_class", "parent": "hardware"}}).want(t, http.StatusForbidden)
	})
}

// TestCMDBNoOpEditAndControlCharacters: re-sending the values a CI already
// has changes nothing (no version, no unauthorised-change flag), even for
// numbers that come back as integers; control characters are refused, not a 500.
func TestCMDBNoOpEditAndControlCharacters(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newCMDBWorld(t, e)
		h := w.h
		c := w.ci(t, "server", "calc-1", map[string]any{"cpu_count": 16, "memory_gb": 64, "os": "RHEL 9"})
		var same ciOut
		h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/cis/" + itoa(c.ID), Token: w.analyst, Headers: map[string]string{"If-Match": `"1"`},
			JSON: map[string]any{"name": "calc-1", "attributes": map[string]any{"cpu_count": 16, "memory_gb": 64.0, "os": "RHEL 9"}}}).
			want(t, http.StatusOK).decode(t, &same)
		if same.Version != 1 {
			t.Errorf("a no-op edit raised the version to %d", same.Version)
		}
		if n := h.count(t, "ci_unauthorised_changes", "ci_id = ?", c.ID); n != 0 {
			t.Errorf("a no-op edit was flagged %d times", n)
		}
		for _, body := range []map[string]any{
			{"class": "server", "name": "bad\x00name"},
			{"class": "server", "name": "ok", "attributes": map[string]any{"os": "RHEL\x00"}},
			{"class": "server", "name": "ok", "attributes": map[string]any{"description": "line\x1b[31m"}},
		} {
			h.do(t, req{Method: http.MethodPost, Path: "/api/v1/cis", Token: w.analyst, JSON: body}).want(t, http.StatusUnprocessableEntity)
		}
	})
}
