package web

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/framework"
	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/httpx"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/settings"
	"steward/internal/transition/cmdb"
)

// opsSite is the web UI with configuration management, incident management
// and request fulfilment over a fresh database. ana is an Incident
// Management analyst (R for IM2–IM6) in the Service desk team; carol and dave
// hold no role and use the portal; root is an administrator.
type opsSite struct {
	*testSite
	db        *db.DB
	cmdb      *cmdb.Service
	incidents *incident.Service
	requests  *request.Service
	problems  *problem.Service

	root, ana, carol, dave auth.User
	rootCtx, anaCtx        context.Context
	carolCtx               context.Context
	team                   auth.Team
	// service is a business service provided by app, which runs on server.
	service   cmdb.ServiceCI
	app, host cmdb.CI
}

func newOpsSite(t *testing.T, d *db.DB) *opsSite {
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
	inc, err := incident.New(incident.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c, RACI: rs})
	if err != nil {
		t.Fatal(err)
	}
	req, err := request.New(request.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c, RACI: rs, Auth: as})
	if err != nil {
		t.Fatal(err)
	}
	prb, err := problem.New(problem.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	st := settings.NewStore(d, trail, c, time.Second)
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Test API", "1.2.3"))
	log := slog.New(slog.DiscardHandler)
	if err := Register(mux, Deps{Auth: as, Settings: st, Log: log, Version: "test", API: api, RACI: rs, Records: recs, CMDB: cm,
		Incidents: inc, Requests: req, Problems: prb}); err != nil {
		t.Fatal(err)
	}
	h := httpx.Chain(mux, httpx.RequestMeta(), auth.Authenticate(as, log, nil), raci.RequestCache)
	s := &opsSite{testSite: &testSite{t: t, handler: h, auth: as, settings: st, raci: rs, records: recs}, db: d, cmdb: cm,
		incidents: inc, requests: req, problems: prb}
	s.root = s.addUser("root", true)
	s.ana, s.carol, s.dave = s.addUser("ana", false), s.addUser("carol", false), s.addUser("dave", false)
	s.rootCtx = auth.WithPrincipal(ctx, &auth.Principal{UserID: s.root.ID, Username: "root", Admin: true})
	s.anaCtx = auth.WithPrincipal(ctx, &auth.Principal{UserID: s.ana.ID, Username: "ana"})
	s.carolCtx = auth.WithPrincipal(ctx, &auth.Principal{UserID: s.carol.ID, Username: "carol"})
	s.assign(incident.Process, "process-analyst", s.ana)
	team, err := as.CreateTeam(ctx, auth.Team{Name: "Service desk"})
	if err != nil {
		t.Fatal(err)
	}
	members := []int64{s.ana.ID}
	if s.team, err = as.UpdateTeam(ctx, team.ID, team.Version, auth.TeamUpdate{Members: &members}); err != nil {
		t.Fatal(err)
	}
	if s.host, err = cm.CreateCI(s.rootCtx, cmdb.NewCI{Class: "server", Name: "mail-01", Attrs: cmdb.Attrs{"hostname": "mail-01"}}); err != nil {
		t.Fatal(err)
	}
	if s.app, err = cm.CreateCI(s.rootCtx, cmdb.NewCI{Class: "application", Name: "Mail relay"}); err != nil {
		t.Fatal(err)
	}
	if s.service, err = cm.CreateService(s.rootCtx, cmdb.NewService{Name: "E-mail", Kind: "business", Criticality: cmdb.CriticalityCritical}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []cmdb.NewRelation{{SourceID: s.app.ID, Type: "runs_on", TargetID: s.host.ID},
		{SourceID: s.app.ID, Type: "provides", TargetID: s.service.ID}} {
		if _, err := cm.AddRelation(s.rootCtx, rel); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// incident logs an incident as ana, for carol, in the desk team; assignee 0 leaves it unassigned.
func (s *opsSite) incident(title string, impact, urgency int, assignee int64) incident.Incident {
	s.t.Helper()
	in, err := s.incidents.Create(s.anaCtx, incident.NewIncident{Title: title, Description: "Reported by phone.", Impact: impact,
		Urgency: urgency, Category: "software", Subcategory: "email", Channel: "phone", CallerID: s.carol.ID, TeamID: s.team.ID,
		AssigneeID: assignee, ServiceID: s.service.ID, CIID: s.app.ID})
	if err != nil {
		s.t.Fatalf("log %q: %v", title, err)
	}
	return in
}
