package auth_test

import (
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

func TestTeams(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		alice, bob, carol := f.user(t, "alice"), f.user(t, "bob"), f.user(t, "carol")

		net, err := f.s.CreateTeam(f.ctx, auth.Team{Name: "  Network Operations ", Email: "netops@example.mil"})
		if err != nil || net.Name != "Network Operations" || net.Version != 1 || net.ID == 0 {
			t.Fatalf("create: %+v, %v", net, err)
		}
		_, err = f.s.CreateTeam(f.ctx, auth.Team{Name: "Network Operations"})
		wantKind(t, err, errs.Conflict, "duplicate name")
		for _, bad := range []struct {
			team auth.Team
			loc  string
		}{
			{auth.Team{Name: " "}, "body.name"},
			{auth.Team{Name: strings.Repeat("n", 101)}, "body.name"},
			{auth.Team{Name: "ok", Email: "nope"}, "body.email"},
			{auth.Team{Name: "ok", Description: strings.Repeat("d", 2001)}, "body.description"},
		} {
			_, err := f.s.CreateTeam(f.ctx, bad.team)
			wantField(t, err, bad.loc)
		}
		desk, err := f.s.CreateTeam(f.ctx, auth.Team{Name: "Service Desk"})
		if err != nil {
			t.Fatal(err)
		}

		members := []int64{carol.ID, alice.ID, carol.ID}
		upd, err := f.s.UpdateTeam(f.ctx, net.ID, 1, auth.TeamUpdate{Members: &members})
		if err != nil || upd.Version != 2 || !slices.Equal(upd.Members, []int64{alice.ID, carol.ID}) || upd.Name != net.Name {
			t.Fatalf("set members: %+v, %v", upd, err)
		}
		_, err = f.s.UpdateTeam(f.ctx, net.ID, 1, auth.TeamUpdate{Members: &[]int64{bob.ID}})
		wantKind(t, err, errs.PreconditionFailed, "stale version")
		got, _ := f.s.GetTeam(f.ctx, net.ID)
		if !slices.Equal(got.Members, []int64{alice.ID, carol.ID}) {
			t.Fatalf("a refused update changed the members: %v", got.Members)
		}

		desc := "Routers, switches and links"
		upd, err = f.s.UpdateTeam(f.ctx, net.ID, 2, auth.TeamUpdate{Description: &desc})
		if err != nil || upd.Description != desc || !slices.Equal(upd.Members, []int64{alice.ID, carol.ID}) {
			t.Fatalf("nil members must leave them as they are: %+v, %v", upd, err)
		}
		upd, err = f.s.UpdateTeam(f.ctx, net.ID, 3, auth.TeamUpdate{Members: &[]int64{bob.ID}})
		if err != nil || !slices.Equal(upd.Members, []int64{bob.ID}) {
			t.Fatalf("replace members: %+v, %v", upd, err)
		}
		empty := []int64{}
		if upd, err = f.s.UpdateTeam(f.ctx, net.ID, 4, auth.TeamUpdate{Members: &empty}); err != nil || len(upd.Members) != 0 {
			t.Fatalf("clear members: %+v, %v", upd, err)
		}

		taken := "Service Desk"
		_, err = f.s.UpdateTeam(f.ctx, net.ID, 5, auth.TeamUpdate{Name: &taken})
		wantKind(t, err, errs.Conflict, "rename onto another team")
		_, err = f.s.UpdateTeam(f.ctx, net.ID, 5, auth.TeamUpdate{Members: &[]int64{alice.ID, 999999}})
		wantField(t, err, "body.members[1]")
		_, err = f.s.UpdateTeam(f.ctx, 999999, 1, auth.TeamUpdate{})
		wantKind(t, err, errs.NotFound, "update a missing team")

		wantKind(t, f.s.DeleteTeam(f.ctx, desk.ID, 2), errs.PreconditionFailed, "delete with a stale version")
		if err := f.s.DeleteTeam(f.ctx, desk.ID, 1); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.GetTeam(f.ctx, desk.ID)
		wantKind(t, err, errs.NotFound, "get a deleted team")
		wantKind(t, f.s.DeleteTeam(f.ctx, desk.ID, 1), errs.NotFound, "delete twice")

		for action, want := range map[string]int64{"team.create": 2, "team.update": 4, "team.delete": 1} {
			if n := f.countAudit(t, action); n != want {
				t.Errorf("%s audit rows = %d, want %d (one per successful mutation)", action, n, want)
			}
		}
		items, _, _ := audit.List(f.ctx, d, audit.Filter{ObjectType: "team", ObjectID: idStr(net.ID), Action: "team.update", Limit: 10})
		first := items[len(items)-1]
		if len(first.ChangeList) != 1 || first.ChangeList[0].Field != "members" {
			t.Fatalf("members audit changes = %+v", first.ChangeList)
		}
		var events int64
		if err := d.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM outbox_events WHERE type LIKE 'team.%'`).Scan(&events); err != nil || events != 7 {
			t.Errorf("team events in the outbox = %d, %v; want 7", events, err)
		}
	})
}

func TestListTeams(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		names := []string{"100% Uptime", "100 Club", "a_b", "axb", "Bravo", "Charlie", "Delta", "Echo"}
		for _, n := range names {
			if _, err := f.s.CreateTeam(f.ctx, auth.Team{Name: n}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		p := listing.Params{Limit: 3, Sort: "-name"}
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			page, total, err := f.s.ListTeams(f.ctx, p, nil)
			if err != nil || total != int64(len(names)) {
				t.Fatalf("page %d: total %d, %v", pages, total, err)
			}
			for _, it := range page.Items {
				seen = append(seen, it.Name)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		want := slices.Clone(names)
		slices.Sort(want)
		slices.Reverse(want)
		if !slices.Equal(seen, want) {
			t.Fatalf("pages gave %q, want %q", seen, want)
		}

		for prefix, want := range map[string][]string{
			"100%": {"100% Uptime"},
			"a_":   {"a_b"},
			"100":  {"100 Club", "100% Uptime"},
		} {
			page, total, err := f.s.ListTeams(f.ctx, listing.Params{}, []listing.Filter{{Field: "name", Value: prefix, Prefix: true}})
			var got []string
			for _, it := range page.Items {
				got = append(got, it.Name)
			}
			if err != nil || total != int64(len(want)) || !slices.Equal(got, want) {
				t.Errorf("prefix %q: %q (total %d), %v; want %q", prefix, got, total, err, want)
			}
		}
		_, _, err := f.s.ListTeams(f.ctx, listing.Params{Sort: "description"}, nil)
		wantField(t, err, "query.sort")
	})
}

func TestRoles(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		for range 2 {
			if err := f.s.EnsureDefaultRoles(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		roles, err := f.s.Roles(f.ctx)
		if err != nil || len(roles) != 4 || f.countAudit(t, "role.create") != 4 {
			t.Fatalf("default roles twice: %d roles, %v; want 4 created once", len(roles), err)
		}

		_, err = f.s.CreateRole(f.ctx, auth.Role{Name: "Bad", Permissions: []auth.Permission{auth.PermTeamsRead, "teams.destroy"}})
		wantField(t, err, "body.permissions[1]")
		if e, _ := errs.As(err); e.Fields[0].Value != auth.Permission("teams.destroy") {
			t.Errorf("the error should echo the unknown permission, got %v", e.Fields[0].Value)
		}
		_, err = f.s.CreateRole(f.ctx, auth.Role{Name: "Agent"})
		wantKind(t, err, errs.Conflict, "duplicate role")
		_, err = f.s.CreateRole(f.ctx, auth.Role{Name: ""})
		wantField(t, err, "body.name")

		mgr, err := f.s.CreateRole(f.ctx, auth.Role{Name: "Team lead",
			Permissions: []auth.Permission{auth.PermTeamsWrite, auth.PermTeamsRead, auth.PermTeamsWrite}})
		if err != nil || !slices.Equal(mgr.Permissions, []auth.Permission{auth.PermTeamsRead, auth.PermTeamsWrite}) {
			t.Fatalf("create role: %+v, %v", mgr, err)
		}

		u := f.user(t, "alice")
		tok, _, err := f.s.CreateToken(f.ctx, u.ID, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		principal := func() *auth.Principal {
			t.Helper()
			p, err := f.s.TokenPrincipal(f.ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if p := principal(); p.Can(auth.PermTeamsWrite) || p.Can(auth.PermTeamsRead) {
			t.Fatalf("a user without roles holds %v", p.Permissions)
		}
		if err := f.s.GrantRole(f.ctx, u.ID, mgr.ID); err != nil {
			t.Fatal(err)
		}
		p := principal()
		if !p.Can(auth.PermTeamsWrite) || !p.Can(auth.PermTeamsRead) || p.Can(auth.PermUsersWrite) {
			t.Fatalf("after the grant: %v", p.Permissions)
		}
		sess, _, _ := f.s.Login(f.ctx, "alice", goodPassword, "", "")
		if sp, err := f.s.SessionPrincipal(f.ctx, sess); err != nil || !sp.Can(auth.PermTeamsWrite) {
			t.Fatalf("session principal after the grant: %+v, %v", sp, err)
		}
		if ids, _ := f.s.UserRoles(f.ctx, u.ID); !slices.Equal(ids, []int64{mgr.ID}) {
			t.Fatalf("user roles = %v", ids)
		}
		wantKind(t, f.s.GrantRole(f.ctx, u.ID, 999999), errs.Invalid, "grant a missing role")
		wantKind(t, f.s.GrantRole(f.ctx, 999999, mgr.ID), errs.Invalid, "grant to a missing user")

		if err := f.s.RevokeRole(f.ctx, u.ID, mgr.ID); err != nil {
			t.Fatal(err)
		}
		if principal().Can(auth.PermTeamsWrite) {
			t.Fatal("permission kept after the role was revoked")
		}
		wantKind(t, f.s.RevokeRole(f.ctx, u.ID, mgr.ID), errs.NotFound, "revoke twice")

		var nilP *auth.Principal
		admin := &auth.Principal{Admin: true}
		if nilP.Can(auth.PermTeamsRead) || !admin.Can(auth.PermWebhooks) {
			t.Fatal("Can: nil holds nothing, an administrator holds everything")
		}
		for action, want := range map[string]int64{"role.create": 5, "role.grant": 1, "role.revoke": 1} {
			if n := f.countAudit(t, action); n != want {
				t.Errorf("%s audit rows = %d, want %d", action, n, want)
			}
		}
	})
}

// The field error must point at the offending element of the list the caller sent.
func TestTeamMembersErrorNamesInputIndex(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		alice := f.user(t, "alice")
		team, err := f.s.CreateTeam(f.ctx, auth.Team{Name: "Ops"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.s.UpdateTeam(f.ctx, team.ID, 1, auth.TeamUpdate{Members: &[]int64{999999, alice.ID}})
		wantField(t, err, "body.members[0]")
	})
}

// Granting a role the user already holds changes nothing, so it must not be
// audited as a grant.
func TestGrantRoleTwiceAuditsOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		r, err := f.s.CreateRole(f.ctx, auth.Role{Name: "Reader", Permissions: []auth.Permission{auth.PermTeamsRead}})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := f.s.GrantRole(f.ctx, u.ID, r.ID); err != nil {
				t.Fatalf("granting a held role again must succeed: %v", err)
			}
		}
		if n := f.countAudit(t, "role.grant"); n != 1 {
			t.Errorf("role.grant audit rows = %d after granting the same role twice, want 1", n)
		}
	})
}
