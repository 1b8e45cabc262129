package app

// The demo's organisation: its people, teams, platform roles and process-role holders.

import (
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/raci"
)

// demoPerson is one person of the demo organisation.
type demoPerson struct {
	username, name, title, team string
	// roles are the platform roles the person holds (auth roles, not process roles).
	roles []string
}

// DemoAccount is a demo account as README.md lists it.
type DemoAccount struct {
	Username string
	Name     string
	Title    string
	Team     string
}

// DemoAccounts lists the demo accounts, each with the password DemoPassword.
func DemoAccounts() []DemoAccount {
	out := make([]DemoAccount, len(demoPeople))
	for i, p := range demoPeople {
		out[i] = DemoAccount{Username: p.username, Name: p.name, Title: p.title, Team: p.team}
	}
	return out
}

// The platform roles EnsureDefaultRoles creates.
const (
	roleAgent      = "Agent"
	roleTeamLead   = "Team manager"
	roleAuditor    = "Auditor"
	roleIntegrator = "Integrator"
)

// The demo's teams.
const (
	teamDesk       = "Service Desk"
	teamNOC        = "Network Operations"
	teamServers    = "Server & Storage"
	teamApps       = "Applications"
	teamIA         = "Information Assurance"
	teamContinuity = "Continuity"
	teamSMO        = "Service Management Office"
	teamChange     = "Change & Release"
)

// demoTeams are the teams, with what they do and their mailbox.
var demoTeams = []struct{ name, description, email string }{
	{teamDesk, "Single point of contact for every user, around the clock: logs, categorises and resolves incidents and service requests.", "servicedesk@jesc.example"},
	{teamNOC, "Network operations centre: WAN and LAN, DNS, firewalls and the event console.", "noc@jesc.example"},
	{teamServers, "Compute, virtualisation, storage and backup platforms in both data centres.", "platforms@jesc.example"},
	{teamApps, "Mission and business applications: development, test and release.", "applications@jesc.example"},
	{teamIA, "Cybersecurity: RMF authorisations, access control, vulnerability management.", "ia@jesc.example"},
	{teamContinuity, "IT service continuity: disaster recovery plans, tests and exercises.", "continuity@jesc.example"},
	{teamSMO, "Owns the service management processes: policy, measurement and improvement.", "smo@jesc.example"},
	{teamChange, "Change enablement, release and deployment, and the configuration and asset records.", "change@jesc.example"},
}

// demoPeople are the demo's people; every one signs in with DemoPassword.
var demoPeople = []demoPerson{
	{"karen.whitfield", "Karen Whitfield", "Director, Enterprise IT Services", teamSMO, []string{roleAgent, roleTeamLead}},
	{"david.okafor", "David Okafor", "Chief, Service Operations", teamSMO, []string{roleAgent}},
	{"linda.park", "Linda Park", "Chief, Service Transition", teamSMO, []string{roleAgent}},
	{"robert.haines", "Robert Haines", "Chief, Service Design", teamSMO, []string{roleAgent}},
	{"angela.ruiz", "Angela Ruiz", "Quality and Improvement Lead", teamSMO, []string{roleAgent}},
	{"james.whitaker", "James Whitaker", "Problem Manager", teamSMO, []string{roleAgent}},
	{"laura.simmons", "Laura Simmons", "Service Level Manager", teamSMO, []string{roleAgent}},
	{"marcus.bell", "Marcus Bell", "Service Desk Manager (Incident Manager)", teamDesk, []string{roleAgent, roleTeamLead}},
	{"priya.natarajan", "Priya Natarajan", "Service Desk Agent", teamDesk, []string{roleAgent}},
	{"tom.kowalski", "Tom Kowalski", "Service Desk Agent", teamDesk, []string{roleAgent}},
	{"jasmine.carter", "Jasmine Carter", "Service Desk Agent, Knowledge Manager", teamDesk, []string{roleAgent}},
	{"luis.ortega", "Luis Ortega", "Service Desk Agent (night shift)", teamDesk, []string{roleAgent}},
	{"ethan.brooks", "Ethan Brooks", "Network Operations Lead", teamNOC, []string{roleAgent, roleTeamLead}},
	{"sofia.marin", "Sofia Marin", "Network Engineer", teamNOC, []string{roleAgent}},
	{"gregory.tan", "Gregory Tan", "Server and Storage Lead", teamServers, []string{roleAgent, roleTeamLead}},
	{"hannah.schultz", "Hannah Schultz", "Systems Engineer", teamServers, []string{roleAgent}},
	{"olivia.bennett", "Olivia Bennett", "Applications Lead", teamApps, []string{roleAgent, roleTeamLead}},
	{"samuel.adeyemi", "Samuel Adeyemi", "Application Developer and Test Lead", teamApps, []string{roleAgent, roleIntegrator}},
	{"rachel.kim", "Rachel Kim", "Information System Security Manager (ISSM)", teamIA, []string{roleAgent, roleTeamLead, roleAuditor}},
	{"daniel.foster", "Daniel Foster", "Information System Security Officer (ISSO)", teamIA, []string{roleAgent}},
	{"michelle.grant", "Michelle Grant", "IT Service Continuity Manager", teamContinuity, []string{roleAgent, roleTeamLead}},
	{"kevin.nguyen", "Kevin Nguyen", "Continuity Planner", teamContinuity, []string{roleAgent}},
	{"patricia.moore", "Patricia Moore", "Change Manager", teamChange, []string{roleAgent, roleTeamLead}},
	{"natalie.cho", "Natalie Cho", "Release Manager", teamChange, []string{roleAgent}},
	{"brian.walsh", "Brian Walsh", "Configuration Manager", teamChange, []string{roleAgent}},
	{"elena.petrova", "Elena Petrova", "Internal Auditor", teamSMO, []string{roleAuditor}},
}

// demoHolder names who holds a role: a username, or "team:" and a team's name.
type demoHolder string

// demoProcess is who holds the template roles of one process, and any further roles.
type demoProcess struct {
	code                    string
	owner, manager, analyst demoHolder
	// more are further assignments the process owner makes: process-specific or scoped roles.
	more []demoRole
}

// demoRole is one further assignment, optionally scoped to a team's records.
type demoRole struct {
	role   string
	holder demoHolder
	scope  string // a team's name, or ""
}

// demoProcesses are the process-role holders: every process of Service
// Operations and Service Transition, and some of the other domains.
var demoProcesses = []demoProcess{
	// Service Operations
	{code: "IM", owner: "david.okafor", manager: "marcus.bell", analyst: "team:" + teamDesk, more: []demoRole{
		{"process-manager", "ethan.brooks", teamNOC},
		{"process-analyst", "team:" + teamNOC, teamNOC},
		{"process-analyst", "team:" + teamServers, teamServers},
	}},
	{code: "PM", owner: "gregory.tan", manager: "james.whitaker", analyst: "hannah.schultz"},
	{code: "RF", owner: "david.okafor", manager: "marcus.bell", analyst: "team:" + teamDesk},
	{code: "EM", owner: "ethan.brooks", manager: "sofia.marin", analyst: "team:" + teamNOC},
	{code: "AcM", owner: "rachel.kim", manager: "daniel.foster", analyst: "priya.natarajan"},
	// Service Transition
	{code: "TPS", owner: "linda.park", manager: "natalie.cho", analyst: "patricia.moore"},
	{code: "AM", owner: "linda.park", manager: "brian.walsh", analyst: "tom.kowalski"},
	{code: "ChM", owner: "linda.park", manager: "patricia.moore", analyst: "natalie.cho", more: []demoRole{
		{"change-manager", "patricia.moore", ""},
		{"change-authority", "linda.park", ""},
		{"change-advisory-board", "team:" + teamChange, ""},
	}},
	{code: "EVAL", owner: "linda.park", manager: "patricia.moore", analyst: "natalie.cho"},
	{code: "CfM", owner: "gregory.tan", manager: "brian.walsh", analyst: "team:" + teamServers, more: []demoRole{
		{"configuration-manager", "brian.walsh", ""},
	}},
	{code: "KM", owner: "angela.ruiz", manager: "jasmine.carter", analyst: "team:" + teamDesk, more: []demoRole{
		{"knowledge-owner", "jasmine.carter", ""},
	}},
	{code: "RDM", owner: "olivia.bennett", manager: "natalie.cho", analyst: "samuel.adeyemi"},
	{code: "SVT", owner: "olivia.bennett", manager: "samuel.adeyemi", analyst: "team:" + teamApps},
	// Service Design
	{code: "SLM", owner: "robert.haines", manager: "laura.simmons", analyst: "angela.ruiz", more: []demoRole{
		{"service-level-manager", "laura.simmons", ""},
	}},
	{code: "ITSCM", owner: "robert.haines", manager: "michelle.grant", analyst: "kevin.nguyen", more: []demoRole{
		{"itsm-service-continuity-manager", "michelle.grant", ""},
	}},
	{code: "ISM", owner: "rachel.kim", manager: "daniel.foster", analyst: "team:" + teamIA},
	{code: "CapM", owner: "robert.haines", manager: "gregory.tan", analyst: "hannah.schultz", more: []demoRole{
		{"capacity-manager", "gregory.tan", ""},
	}},
	{code: "AvM", owner: "robert.haines", manager: "ethan.brooks", analyst: "sofia.marin"},
	// Service Strategy and Continual Service Improvement
	{code: "SCM", owner: "karen.whitfield", manager: "laura.simmons", analyst: "jasmine.carter"},
	{code: "SPM", owner: "karen.whitfield", manager: "laura.simmons"},
	{code: "CSI", owner: "angela.ruiz", manager: "laura.simmons", analyst: "james.whitaker"},
}

// demoDomainOwners own the five lifecycle domains.
var demoDomainOwners = map[string]string{
	"SS": "karen.whitfield", "SD": "robert.haines", "ST": "linda.park", "SO": "david.okafor", "CSI": "angela.ruiz",
}

// demoDomainRoles are roles held for a whole domain, assigned by its domain owner.
var demoDomainRoles = []struct {
	domain, role string
	holder       demoHolder
}{
	{"SO", "process-developer", "angela.ruiz"},
	{"ST", "process-developer", "angela.ruiz"},
	{"SD", "sme", "team:" + teamIA},
}

// scheduleOrganisation creates the administrator if needed, the teams, the
// people with their memberships and platform roles, on the history's first day.
func (d *demo) scheduleOrganisation() {
	d.at(d.day(demoDays, 8, 0), "the administrator account", func() error {
		pw, created, err := d.auth.EnsureAdmin(d.base)
		if err != nil {
			return err
		}
		if created {
			d.adminPassword = pw
		}
		if d.admin, err = d.auth.UserByName(d.base, "admin"); err != nil {
			return err
		}
		if !d.admin.Admin || d.admin.Disabled {
			return fmt.Errorf("the account \"admin\" is not an enabled administrator")
		}
		return nil
	})
	for i, t := range demoTeams {
		d.at(d.day(demoDays, 8, 10+i), "admin creates the team "+t.name, func() error {
			team, err := d.auth.CreateTeam(d.as("admin"), auth.Team{Name: t.name, Description: t.description, Email: t.email})
			d.teams[t.name] = team
			return err
		})
	}
	for i, p := range demoPeople {
		d.at(d.day(demoDays, 8, 30+i), "admin creates the account "+p.username, func() error {
			u, err := d.auth.CreateUser(d.as("admin"), auth.NewUser{Username: p.username, DisplayName: p.name,
				Email: p.username + "@jesc.example", Password: DemoPassword})
			d.users[p.username] = u
			return err
		})
	}
	for i, t := range demoTeams {
		d.at(d.day(demoDays, 10, i), "admin sets the members of "+t.name, func() error {
			var members []int64
			for _, p := range demoPeople {
				if p.team == t.name {
					members = append(members, d.user(p.username))
				}
			}
			team := d.teams[t.name]
			team, err := d.auth.UpdateTeam(d.as("admin"), team.ID, team.Version, auth.TeamUpdate{Members: &members})
			d.teams[t.name] = team
			return err
		})
	}
	d.at(d.day(demoDays, 10, 30), "admin grants the platform roles", func() error {
		roles, err := d.auth.Roles(d.base)
		if err != nil {
			return err
		}
		ids := map[string]int64{}
		for _, r := range roles {
			ids[r.Name] = r.ID
		}
		for _, p := range demoPeople {
			for _, r := range p.roles {
				if ids[r] == 0 {
					return fmt.Errorf("no platform role %q", r)
				}
				if err := d.auth.GrantRole(d.as("admin"), d.user(p.username), ids[r]); err != nil {
					return fmt.Errorf("grant %s to %s: %w", r, p.username, err)
				}
			}
		}
		return nil
	})
}

// assignment is the role assignment of holder h.
func (d *demo) assignment(subject, role string, h demoHolder, scopeTeam string) (raci.RoleAssignment, error) {
	a := raci.RoleAssignment{Subject: subject, Role: role}
	if team, ok := strings.CutPrefix(string(h), "team:"); ok {
		if a.TeamID = d.teams[team].ID; a.TeamID == 0 {
			return a, fmt.Errorf("no team %q", team)
		}
	} else if a.UserID = d.user(string(h)); a.UserID == 0 {
		return a, fmt.Errorf("no person %q", h)
	}
	if scopeTeam != "" {
		if a.Scope.TeamID = d.teams[scopeTeam].ID; a.Scope.TeamID == 0 {
			return a, fmt.Errorf("no team %q", scopeTeam)
		}
	}
	return a, nil
}

// assign makes one assignment acting as the named person.
func (d *demo) assign(actor, subject, role string, h demoHolder, scopeTeam string) error {
	a, err := d.assignment(subject, role, h, scopeTeam)
	if err != nil {
		return err
	}
	ctx := d.as(actor)
	_, err = d.raci.Assign(ctx, auth.PrincipalFrom(ctx), a)
	return err
}

// scheduleProcessRoles has the administrator name the executive sponsor, the
// domain owners and the process owners on the second day; on the third, each
// process owner assigns the other roles of their process and each domain owner
// the roles held for their whole domain.
func (d *demo) scheduleProcessRoles() {
	day2 := d.day(demoDays-1, 9, 0)
	d.at(day2, "admin names the executive sponsor and the domain owners", func() error {
		if err := d.assign("admin", raci.Everywhere, "executive-sponsor", "karen.whitfield", ""); err != nil {
			return err
		}
		for _, dom := range d.app.Model.Domains() {
			if err := d.assign("admin", dom.Code, raci.RoleDomainOwner, demoHolder(demoDomainOwners[dom.Code]), ""); err != nil {
				return err
			}
		}
		return nil
	})
	for i, p := range demoProcesses {
		d.at(day2.Add(time.Duration(10+i)*time.Minute), "admin names the owner of "+p.code, func() error {
			return d.assign("admin", p.code, raci.RoleProcessOwner, p.owner, "")
		})
	}
	day3 := d.day(demoDays-2, 10, 0)
	for i, p := range demoProcesses {
		owner := string(p.owner)
		d.at(day3.Add(time.Duration(i*12)*time.Minute), owner+" assigns the roles of "+p.code, func() error {
			for _, r := range []struct {
				role string
				h    demoHolder
			}{{"process-manager", p.manager}, {"process-analyst", p.analyst}} {
				if r.h == "" {
					continue
				}
				if err := d.assign(owner, p.code, r.role, r.h, ""); err != nil {
					return err
				}
			}
			for _, r := range p.more {
				if err := d.assign(owner, p.code, r.role, r.holder, r.scope); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i, r := range demoDomainRoles {
		owner := demoDomainOwners[r.domain]
		d.at(d.day(demoDays-2, 15, 10*i), owner+" assigns "+r.role+" for "+r.domain, func() error {
			return d.assign(owner, r.domain, r.role, r.holder, "")
		})
	}
}
