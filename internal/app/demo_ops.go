package app

// The demo's Service Operations story over its last two months: the desk
// logs, works and resolves everyday incidents, callers confirm (or reject)
// their resolutions and the auto-close timer closes the ones nobody answered;
// five password incidents on idm01 become a problem with a root-cause
// analysis, a workaround and a published known error, which the desk then
// finds for the next caller; a night-time database failure takes the Fleet
// Logistics service down (a major incident with its children, stakeholder
// updates, communications and review); Information Assurance handles a
// malicious attachment on the security path; staff request laptops, software
// and access from the catalog; and the desk ends with a queue to work.
//
// Every step goes through the services as the person the story names, so the
// RACI guard decides each one. The CMDB part keeps its ids to itself: this
// part looks CIs and services up by name when it first needs them.

import (
	"context"
	"fmt"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
)

// The names the operations story refers to.
const (
	demoSvcLogistics = "Fleet Logistics"
	demoSvcIdentity  = "Identity and Access"
	demoSvcEndUser   = "End-User Services"

	demoItemLaptop   = "New laptop"
	demoItemSoftware = "Software installation"
	demoItemAccess   = "Access to a mission application"
)

// demoManagers are the people's managers (auth ManagerID), who approve what
// a catalog item asks the requester's manager to.
var demoManagers = [][2]string{
	{"david.okafor", "karen.whitfield"}, {"linda.park", "karen.whitfield"}, {"robert.haines", "karen.whitfield"},
	{"angela.ruiz", "karen.whitfield"}, {"elena.petrova", "karen.whitfield"},
	{"marcus.bell", "david.okafor"}, {"ethan.brooks", "david.okafor"}, {"gregory.tan", "david.okafor"},
	{"olivia.bennett", "david.okafor"}, {"james.whitaker", "david.okafor"},
	{"laura.simmons", "robert.haines"}, {"rachel.kim", "robert.haines"}, {"michelle.grant", "robert.haines"},
	{"priya.natarajan", "marcus.bell"}, {"tom.kowalski", "marcus.bell"}, {"jasmine.carter", "marcus.bell"},
	{"luis.ortega", "marcus.bell"}, {"sofia.marin", "ethan.brooks"}, {"hannah.schultz", "gregory.tan"},
	{"samuel.adeyemi", "olivia.bennett"}, {"daniel.foster", "rachel.kim"}, {"kevin.nguyen", "michelle.grant"},
	{"patricia.moore", "linda.park"}, {"natalie.cho", "patricia.moore"}, {"brian.walsh", "patricia.moore"},
}

// opsStory is the state the operations story shares between its events.
type opsStory struct {
	d *demo
	// ids are CMDB CIs and services by name, looked up once.
	ids map[string]int64
	// items are the catalog items by name.
	items map[string]int64
}

// scheduleOperations tells the story of incident, request and problem management.
func (d *demo) scheduleOperations() {
	o := &opsStory{d: d, ids: map[string]int64{}, items: map[string]int64{}}
	o.setup()
	o.catalog()
	o.everyday()
	o.recurring()
	o.reassigned()
	o.major()
	o.security()
	o.workload()
	o.timers()
}

// id returns the id of the CMDB CI or service named name ("" is 0).
func (o *opsStory) id(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	if id, ok := o.ids[name]; ok {
		return id, nil
	}
	page, _, err := o.d.cmdb.ListCIs(o.d.as("brian.walsh"), cmdb.CIFilter{Name: name}, listing.Params{Limit: 50})
	if err != nil {
		return 0, err
	}
	for _, c := range page.Items {
		if c.Name == name {
			o.ids[name] = c.ID
			return c.ID, nil
		}
	}
	return 0, fmt.Errorf("the CMDB has no CI named %q", name)
}

// team is the id of a demo team ("" is 0).
func (o *opsStory) team(name string) int64 { return o.d.teams[name].ID }

// teamOf is the team a demo person belongs to.
func teamOf(username string) string {
	for _, p := range demoPeople {
		if p.username == username {
			return p.team
		}
	}
	return ""
}

// ---- set-up ----

// setup registers the end-user service, sets the people's managers, lets
// Information Assurance work security incidents and fulfil access tasks, and
// aligns the auto-close timer with the incident policy.
func (o *opsStory) setup() {
	d := o.d
	d.at(d.day(63, 9, 0), "brian.walsh registers the service "+demoSvcEndUser, func() error {
		out, err := d.cmdb.CreateService(d.as("brian.walsh"), cmdb.NewService{Name: demoSvcEndUser, Kind: "technical",
			Criticality: cmdb.CriticalitySupport, OwnerID: d.user("david.okafor"), ManagerID: d.user("marcus.bell")})
		o.ids[demoSvcEndUser] = out.ID
		return err
	})
	d.at(d.day(62, 9, 0), "admin records everyone's manager", func() error {
		for _, m := range demoManagers {
			u, err := d.auth.GetUser(d.base, d.user(m[0]))
			if err != nil {
				return fmt.Errorf("read %s: %w", m[0], err)
			}
			manager := d.user(m[1])
			if _, err := d.auth.UpdateUser(d.as("admin"), u.ID, u.Version, auth.UserUpdate{ManagerID: &manager}); err != nil {
				return fmt.Errorf("set the manager of %s: %w", m[0], err)
			}
		}
		return nil
	})
	d.at(d.day(62, 9, 30), "david.okafor lets Information Assurance work security incidents and access tasks", func() error {
		for _, process := range []string{"IM", "RF"} {
			if err := d.assign("david.okafor", process, "process-analyst", "team:"+teamIA, teamIA); err != nil {
				return err
			}
		}
		return nil
	})
	d.at(d.day(62, 10, 0), "marcus.bell sets incident auto-close to three days", func() error {
		st := incident.DefaultSettings()
		st.AutoCloseDays = 3
		_, err := d.incidents.SaveSettings(d.as("marcus.bell"), 0, st)
		return err
	})
}

// timers run the incident auto-close timer every morning, as the server's job would.
func (o *opsStory) timers() {
	for n := 60; n >= 1; n-- {
		o.d.at(o.d.day(n, 5, 0), "the auto-close timer runs", func() error {
			_, err := o.d.incidents.AutoClose(o.d.base)
			return err
		})
	}
}

// ---- incidents ----

// opsIncident is how an incident of the story is logged.
type opsIncident struct {
	// by logs it: the caller on the portal, or an agent on the caller's behalf.
	by, caller            string
	channel               string
	title, description    string
	impact, urgency       int
	category, subcategory string
	// service and ci are CMDB names, or "".
	service, ci    string
	team, assignee string
}

// demoInc follows one incident of the story.
type demoInc struct {
	o      *opsStory
	title  string
	caller string
	number string
	last   time.Time
}

// incident has in.by log an incident at t.
func (o *opsStory) incident(t time.Time, in opsIncident) *demoInc {
	h := &demoInc{o: o, title: in.title, caller: in.caller}
	if h.caller == "" {
		h.caller = in.by
	}
	o.d.after(&h.last, t, in.by+" logs "+in.title, func() error {
		svc, err := o.id(in.service)
		if err != nil {
			return err
		}
		ci, err := o.id(in.ci)
		if err != nil {
			return err
		}
		inc, err := o.d.incidents.Create(o.d.as(in.by), incident.NewIncident{Title: in.title, Description: in.description,
			Impact: in.impact, Urgency: in.urgency, ServiceID: svc, CIID: ci, Category: in.category, Subcategory: in.subcategory,
			Channel: in.channel, CallerID: o.d.user(in.caller), TeamID: o.team(in.team), AssigneeID: o.d.user(in.assignee)})
		h.number = inc.Number
		return err
	})
	return h
}

// do schedules a step by who at t on the incident as who reads it.
func (h *demoInc) do(t time.Time, who, what string, f func(ctx context.Context, inc incident.Incident) error) *demoInc {
	h.o.d.after(&h.last, t, who+" "+what+": "+h.title, func() error {
		ctx := h.o.d.as(who)
		inc, err := h.o.d.incidents.Incident(ctx, h.number)
		if err != nil {
			return err
		}
		return f(ctx, inc)
	})
	return h
}

// step has who take a workflow action, with its comment and fields.
func (h *demoInc) step(t time.Time, who, action, comment string, f incident.StepFields) *demoInc {
	return h.do(t, who, action, func(ctx context.Context, inc incident.Incident) error {
		_, err := h.o.d.incidents.Perform(ctx, inc.Number, action, incident.StepInput{Version: inc.Version, Comment: comment, Fields: f})
		return err
	})
}

func (h *demoInc) investigate(t time.Time, who, note string) *demoInc {
	return h.step(t, who, "investigate", note, incident.StepFields{})
}

func (h *demoInc) hold(t time.Time, who, reason, note string) *demoInc {
	return h.step(t, who, "hold", note, incident.StepFields{HoldReason: reason})
}

func (h *demoInc) resume(t time.Time, who, note string) *demoInc {
	return h.step(t, who, "resume", note, incident.StepFields{})
}

// resolve records a resolution: its code, notes, effort in minutes and whether at first contact.
func (h *demoInc) resolve(t time.Time, who, code, notes string, effort int64, first bool) *demoInc {
	return h.step(t, who, "resolve", "", incident.StepFields{ResolutionCode: code, ResolutionNotes: notes, EffortMinutes: effort,
		FirstContact: first})
}

// confirm has the caller confirm the resolution, which closes the incident;
// what the caller says with it is a comment, which the desk and the caller read.
func (h *demoInc) confirm(t time.Time, say string) *demoInc {
	return h.do(t, h.caller, "confirms", func(ctx context.Context, inc incident.Incident) error {
		if say != "" {
			if _, err := h.o.d.records.AddJournal(ctx, inc.Number, record.Comment, say); err != nil {
				return err
			}
			var err error
			if inc, err = h.o.d.incidents.Incident(ctx, inc.Number); err != nil {
				return err
			}
		}
		_, err := h.o.d.incidents.Perform(ctx, inc.Number, "confirm", incident.StepInput{Version: inc.Version})
		return err
	})
}

// reject has the caller reject the resolution, with why.
func (h *demoInc) reject(t time.Time, reason string) *demoInc {
	return h.step(t, h.caller, "reject_resolution", "", incident.StepFields{Reason: reason})
}

// close has who close the resolved incident, reviewing its category at closure.
func (h *demoInc) close(t time.Time, who, category, subcategory, note string) *demoInc {
	return h.step(t, who, "close", note, incident.StepFields{ClosureCategory: category, ClosureSubcategory: subcategory})
}

func (h *demoInc) cancel(t time.Time, who, note string) *demoInc {
	return h.step(t, who, "cancel", note, incident.StepFields{})
}

// assign has who hand the incident to a team and a person ("" for nobody).
func (h *demoInc) assign(t time.Time, who, team, person string) *demoInc {
	return h.do(t, who, "assigns", func(ctx context.Context, inc incident.Incident) error {
		_, err := h.o.d.records.Assign(ctx, inc.Number, h.o.team(team), h.o.d.user(person), inc.Version)
		return err
	})
}

// triage has who recategorise the incident and name its CI (empty arguments leave a field as it is).
func (h *demoInc) triage(t time.Time, who, category, subcategory, ci string) *demoInc {
	return h.do(t, who, "categorises", func(ctx context.Context, inc incident.Incident) error {
		var c incident.Change
		if category != "" {
			c.Category, c.Subcategory = &category, &subcategory
		}
		if ci != "" {
			id, err := h.o.id(ci)
			if err != nil {
				return err
			}
			c.CIID = &id
		}
		_, err := h.o.d.incidents.Update(ctx, inc.Number, inc.Version, c)
		return err
	})
}

// note has who write a work note.
func (h *demoInc) note(t time.Time, who, text string) *demoInc {
	h.o.d.note(&h.last, &h.number, t, who, text)
	return h
}

// comment has who (the caller, usually) write a comment the caller reads.
func (h *demoInc) comment(t time.Time, who, text string) *demoInc {
	h.o.d.after(&h.last, t, who+" comments on "+h.title, func() error {
		_, err := h.o.d.records.AddJournal(h.o.d.as(who), h.number, record.Comment, text)
		return err
	})
	return h
}

func (h *demoInc) escalate(t time.Time, who, reason string) *demoInc {
	return h.do(t, who, "escalates", func(ctx context.Context, inc incident.Incident) error {
		_, err := h.o.d.incidents.Escalate(ctx, inc.Number, inc.Version, reason)
		return err
	})
}

// declare has who put the incident on the major path, or name its manager.
func (h *demoInc) declare(t time.Time, who, manager, reason string) *demoInc {
	return h.do(t, who, "declares major", func(ctx context.Context, inc incident.Incident) error {
		_, err := h.o.d.incidents.DeclareMajor(ctx, inc.Number, inc.Version, h.o.d.user(manager), reason)
		return err
	})
}

// update has who post a stakeholder update on the major incident.
func (h *demoInc) update(t time.Time, who, audience, message string) *demoInc {
	h.o.d.after(&h.last, t, who+" posts an update on "+h.title, func() error {
		_, err := h.o.d.incidents.PostUpdate(h.o.d.as(who), h.number, audience, message)
		return err
	})
	return h
}

// communicate has who log a communication of the major incident.
func (h *demoInc) communicate(t time.Time, who, channel, party, summary string) *demoInc {
	h.o.d.after(&h.last, t, who+" logs a communication on "+h.title, func() error {
		_, err := h.o.d.incidents.LogCommunication(h.o.d.as(who), h.number,
			incident.MajorCommunication{Channel: channel, Party: party, Summary: summary})
		return err
	})
	return h
}

// children has who link incidents as the major incident's children.
func (h *demoInc) children(t time.Time, who string, kids ...*demoInc) *demoInc {
	h.o.d.after(&h.last, t, who+" links the children of "+h.title, func() error {
		numbers := make([]string, len(kids))
		for i, k := range kids {
			numbers[i] = k.number
		}
		linked, err := h.o.d.incidents.AddChildren(h.o.d.as(who), h.number, numbers)
		if err == nil && len(linked) != len(kids) {
			err = fmt.Errorf("linked %v of %v", linked, numbers)
		}
		return err
	})
	return h
}

// review has who record the review of the resolved major incident.
func (h *demoInc) review(t time.Time, who string, rv incident.MajorReview) *demoInc {
	h.o.d.after(&h.last, t, who+" reviews "+h.title, func() error {
		_, err := h.o.d.incidents.RecordReview(h.o.d.as(who), h.number, rv)
		return err
	})
	return h
}

// reclassify has who turn the incident into a request for a catalog item; the request follows.
func (h *demoInc) reclassify(t time.Time, who, item, note string) *demoReq {
	q := &demoReq{o: h.o, title: h.title, requester: h.caller}
	h.do(t, who, "reclassifies", func(ctx context.Context, inc incident.Incident) error {
		res, err := h.o.d.incidents.Perform(ctx, inc.Number, "reclassify", incident.StepInput{Version: inc.Version, Comment: note,
			Fields: incident.StepFields{CatalogItemID: h.o.items[item]}})
		q.number = res.Incident.ReclassifiedAs
		return err
	})
	q.last = h.last
	return q
}

// everyday is the desk's ordinary work: calls and portal incidents, resolved,
// confirmed, rejected once, put on hold, auto-closed, one cancelled as a duplicate.
func (o *opsStory) everyday() {
	d := o.d
	dock := o.incident(d.day(58, 8, 40), opsIncident{by: "priya.natarajan", caller: "karen.whitfield", channel: "phone",
		title: "Docking station does not detect the external monitors", impact: 3, urgency: 2, category: "hardware", subcategory: "peripheral",
		service: demoSvcEndUser, team: teamDesk, assignee: "priya.natarajan",
		description: "Since this morning neither monitor on the docking station in the director's office comes on; the laptop screen works."})
	dock.investigate(d.day(58, 8, 45), "priya.natarajan", "Remote session: the dock is seen, the DisplayPort outputs are not. Dock firmware is 1.0.9; 1.2.3 is current.").
		resolve(d.day(58, 9, 10), "priya.natarajan", "remote_permanent", "Updated the docking station firmware to 1.2.3 over the remote session; both monitors came back.", 25, true).
		confirm(d.day(58, 11, 0), "Both screens work, thank you.")

	dash := o.incident(d.day(57, 9, 5), opsIncident{by: "angela.ruiz", channel: "portal", title: "Cannot open the quality dashboard on SharePoint",
		impact: 3, urgency: 2, category: "software", subcategory: "application-error", service: demoSvcEndUser,
		description: "The process quality dashboard says 'Sorry, something went wrong'. It worked last week."})
	dash.assign(d.day(57, 10, 15), "tom.kowalski", teamDesk, "tom.kowalski").
		investigate(d.day(57, 10, 20), "tom.kowalski", "Other users open the site. Need the exact link Angela uses.").
		hold(d.day(57, 11, 0), "tom.kowalski", "awaiting_caller", "Asked Angela for the link she uses and a screenshot of the error.").
		comment(d.day(56, 9, 0), "angela.ruiz", "The link is the one in my favourites: /sites/smo/quality/dashboard.aspx. Same error today.").
		resume(d.day(56, 9, 20), "tom.kowalski", "Link received.").
		resolve(d.day(56, 10, 0), "tom.kowalski", "remote_permanent",
			"The dashboard page had broken permission inheritance after the site move; restored inheritance from the SMO site.", 40, false).
		confirm(d.day(56, 14, 0), "")

	vpn := o.incident(d.day(55, 13, 10), opsIncident{by: "natalie.cho", channel: "portal", title: "Cannot connect to the build server from home",
		impact: 3, urgency: 2, category: "software", subcategory: "application-error", service: demoSvcEndUser,
		description: "The remote desktop client times out when I work from home; in the office it connects."})
	vpn.assign(d.day(55, 13, 30), "jasmine.carter", teamDesk, "jasmine.carter").
		triage(d.day(55, 13, 35), "jasmine.carter", "network", "vpn", "").
		investigate(d.day(55, 13, 40), "jasmine.carter", "It is the VPN profile, not the application: the profile predates the new gateway.").
		resolve(d.day(55, 15, 0), "jasmine.carter", "remote_workaround",
			"Pushed the current VPN profile to Natalie's laptop; the build server answers over the new gateway. Asked her to try from home tonight.", 30, false)

	plotter := o.incident(d.day(53, 22, 30), opsIncident{by: "luis.ortega", caller: "michelle.grant", channel: "phone",
		title: "Operations-room plotter prints nothing", impact: 3, urgency: 2, category: "hardware", subcategory: "printer",
		service: demoSvcEndUser, team: teamDesk, assignee: "luis.ortega",
		description: "The plotter in the continuity operations room accepts jobs and prints nothing; needed for tomorrow's exercise."})
	plotter.resolve(d.day(53, 22, 45), "luis.ortega", "remote_workaround", "Cleared a stuck job from the print queue and restarted the spooler; the queue empties.", 10, true).
		reject(d.day(52, 8, 50), "The queue empties but the plotter feeds blank sheets.").
		assign(d.day(52, 9, 0), "priya.natarajan", teamDesk, "priya.natarajan").
		note(d.day(52, 11, 30), "priya.natarajan", "On site: the print-head cartridge has dried out. Spare taken from stock.").
		resolve(d.day(52, 14, 0), "priya.natarajan", "permanent", "Replaced the print-head cartridge and ran the calibration page; test plot is clean.", 60, false).
		confirm(d.day(52, 16, 0), "Plots are fine now.")

	card := o.incident(d.day(42, 8, 10), opsIncident{by: "jasmine.carter", caller: "elena.petrova", channel: "walk_in",
		title: "Smart card certificate expired, cannot sign in", impact: 3, urgency: 1, category: "access", subcategory: "certificate",
		service: demoSvcIdentity, team: teamDesk, assignee: "jasmine.carter",
		description: "Elena came to the desk: Windows refuses her card, 'the certificate has expired'."})
	card.resolve(d.day(42, 8, 35), "jasmine.carter", "permanent", "Renewed the PIV authentication certificate at the desk's issuing station; sign-in works.", 20, true).
		confirm(d.day(42, 9, 0), "")

	monitor := o.incident(d.day(37, 15, 20), opsIncident{by: "brian.walsh", channel: "email", title: "Monitor flickers every few seconds",
		impact: 3, urgency: 3, category: "hardware", subcategory: "monitor", service: demoSvcEndUser,
		description: "My left-hand monitor flickers and goes black for a second, several times a minute."})
	monitor.assign(d.day(37, 15, 40), "tom.kowalski", teamDesk, "tom.kowalski").
		investigate(d.day(37, 16, 0), "tom.kowalski", "").
		resolve(d.day(37, 16, 30), "tom.kowalski", "permanent", "Replaced the DisplayPort cable, which was crushed under the desk leg.", 20, false)

	vsphere := o.incident(d.day(33, 23, 10), opsIncident{by: "luis.ortega", caller: "gregory.tan", channel: "phone",
		title: "vSphere client unreachable over VPN", impact: 2, urgency: 2, category: "network", subcategory: "vpn",
		service: demoSvcEndUser, team: teamDesk, assignee: "luis.ortega",
		description: "On call from home: the vSphere client does not reach vcenter over the VPN; everything else does."})
	vsphere.investigate(d.day(33, 23, 15), "luis.ortega", "The management subnet is missing from Gregory's split-tunnel list.").
		resolve(d.day(33, 23, 40), "luis.ortega", "remote_permanent", "Reissued the administrators' VPN profile with the management subnet in the tunnel.", 25, true).
		confirm(d.day(33, 23, 50), "Works, thanks.")

	teams := o.incident(d.day(24, 10, 0), opsIncident{by: "laura.simmons", channel: "portal", title: "Audio drops in Teams meetings",
		impact: 3, urgency: 2, category: "software", subcategory: "performance", service: demoSvcEndUser,
		description: "In every Teams meeting my audio cuts out for a few seconds; others say I freeze."})
	teams.assign(d.day(24, 10, 30), "jasmine.carter", teamDesk, "jasmine.carter").
		investigate(d.day(24, 10, 35), "jasmine.carter", "Call quality logs show packet loss only on the headset's USB path.").
		hold(d.day(24, 10, 50), "jasmine.carter", "awaiting_caller", "Asked Laura for the headset model and whether a wired one does the same.").
		comment(d.day(23, 9, 15), "laura.simmons", "It is the Jabra Evolve2 65. With the wired one the audio is fine.").
		resume(d.day(23, 9, 30), "jasmine.carter", "").
		resolve(d.day(23, 10, 0), "jasmine.carter", "remote_permanent", "Updated the headset firmware and its dongle; the drop-outs were a known firmware fault.", 35, false)

	dup := o.incident(d.day(15, 8, 55), opsIncident{by: "kevin.nguyen", channel: "portal", title: "Licence server message in the DR planning tool",
		impact: 3, urgency: 2, category: "software", subcategory: "licence", service: demoSvcEndUser,
		description: "The planning tool says no licence is available."})
	again := o.incident(d.day(15, 9, 1), opsIncident{by: "kevin.nguyen", channel: "portal", title: "DR planning tool: no licence available",
		impact: 3, urgency: 2, category: "software", subcategory: "licence", service: demoSvcEndUser,
		description: "Logged it twice by mistake, sorry. The planning tool says no licence is available since this morning."})
	dup.cancel(d.day(15, 9, 20), "jasmine.carter", "Duplicate of the incident Kevin logged a few minutes later; worked there.")
	again.assign(d.day(15, 9, 25), "jasmine.carter", teamDesk, "jasmine.carter").
		resolve(d.day(15, 9, 50), "jasmine.carter", "permanent", "The licence pool was full of sessions left by leavers; released them and set a 12-hour idle timeout.", 25, false).
		confirm(d.day(15, 10, 30), "")

	licence := o.incident(d.day(16, 11, 20), opsIncident{by: "tom.kowalski", caller: "olivia.bennett", channel: "phone",
		title: "Visual Studio licence expired", impact: 3, urgency: 1, category: "software", subcategory: "licence",
		service: demoSvcEndUser, team: teamDesk, assignee: "tom.kowalski",
		description: "Visual Studio says the subscription has expired; the release build is due tomorrow."})
	licence.resolve(d.day(16, 11, 45), "tom.kowalski", "permanent", "Reassigned a subscription from the pool to Olivia; signed out and in again.", 15, true).
		confirm(d.day(16, 13, 0), "")

	// Elena asks for software through an incident: the desk turns it into a request.
	visio := o.incident(d.day(6, 9, 30), opsIncident{by: "elena.petrova", channel: "portal", title: "Please install Microsoft Visio",
		impact: 3, urgency: 3, category: "software", subcategory: "installation", service: demoSvcEndUser,
		description: "I need Visio to read the process diagrams attached to the audit evidence."})
	req := visio.reclassify(d.day(6, 10, 0), "jasmine.carter", demoItemSoftware,
		"Not an incident: a standard software request. Reclassified into a request for the catalog item.")
	req.validate(d.day(6, 10, 5), "jasmine.carter", "Visio is on the approved list; no approval needed.").
		start(d.day(5, 9, 0), "tom.kowalski", "Install the software remotely", "").
		complete(d.day(5, 9, 40), "tom.kowalski", "Install the software remotely", "Visio installed through the software centre.").
		comment(d.day(5, 9, 45), "tom.kowalski", "Visio is installed on your laptop. Please check it opens the diagrams, then accept the request.")

	cab := o.incident(d.day(2, 9, 10), opsIncident{by: "patricia.moore", channel: "portal", title: "CAB mailbox invitations not arriving",
		impact: 3, urgency: 1, category: "software", subcategory: "email", service: demoSvcEndUser,
		description: "Meeting invitations sent from the CAB shared mailbox do not reach the members since Monday."})
	cab.assign(d.day(2, 9, 30), "priya.natarajan", teamDesk, "priya.natarajan").
		investigate(d.day(2, 9, 35), "priya.natarajan", "").
		resolve(d.day(2, 11, 0), "priya.natarajan", "remote_permanent", "The shared mailbox had lost its send-as delegation in the last clean-up; restored it.", 45, false)
}

// recurring is the problem story: five password incidents on idm01 within a
// month, a problem raised from them, its analysis, workaround and known
// error, and a sixth caller helped by the known error.
func (o *opsStory) recurring() {
	d := o.d
	type call struct {
		days, hh, mm  int
		by, caller    string
		channel       string
		title, desc   string
		agent         string
		confirm       bool
		resolveAfterM int
	}
	calls := []call{
		{48, 8, 20, "samuel.adeyemi", "", "portal", "New password not accepted by the Logistics Portal",
			"I changed my password yesterday; Windows takes the new one, the Logistics Portal only the old one.", "jasmine.carter", true, 40},
		{44, 7, 55, "priya.natarajan", "kevin.nguyen", "phone", "Password reset did not reach e-mail and VPN",
			"Reset at the desk this morning; e-mail and the VPN still refuse the new password.", "priya.natarajan", false, 25},
		{39, 8, 40, "laura.simmons", "", "portal", "Password expired warning right after changing it",
			"Changed my password yesterday, and today the Logistics Portal says it has expired.", "tom.kowalski", true, 30},
		{35, 6, 50, "luis.ortega", "patricia.moore", "phone", "Old password still works on the VPN after a change",
			"Locked out of the portal after changing her password; the VPN still takes the old one.", "luis.ortega", true, 20},
		{31, 8, 5, "robert.haines", "", "portal", "Logistics Portal and VPN disagree about my password",
			"Since I changed my password the portal wants the new one and the VPN the old one.", "jasmine.carter", false, 30},
	}
	var incs []*demoInc
	for _, c := range calls {
		in := opsIncident{by: c.by, caller: c.caller, channel: c.channel, title: c.title, description: c.desc, impact: 3, urgency: 1,
			category: "access", subcategory: "password", service: demoSvcIdentity}
		self := c.caller == ""
		if !self {
			in.team, in.assignee, in.ci = teamDesk, c.agent, "idm01"
		}
		at := d.day(c.days, c.hh, c.mm)
		h := o.incident(at, in)
		if self {
			h.assign(at.Add(10*time.Minute), c.agent, teamDesk, c.agent).
				triage(at.Add(12*time.Minute), c.agent, "", "", "idm01")
		}
		h.investigate(at.Add(15*time.Minute), c.agent, "Identity Manager shows the password change queued on idm01 but never exported.").
			resolve(at.Add(time.Duration(c.resolveAfterM+15)*time.Minute), c.agent, "remote_workaround",
				"Ran a delta synchronisation for the user's account on idm01; the new password now works everywhere.", int64(c.resolveAfterM), !self)
		if c.confirm {
			h.confirm(at.Add(3*time.Hour), "")
		}
		incs = append(incs, h)
	}

	pm := "james.whitaker"
	analyst := "hannah.schultz"
	var number, ke string
	var last time.Time
	d.after(&last, d.day(29, 9, 30), pm+" raises a problem from the password incidents", func() error {
		svc, err := o.id(demoSvcIdentity)
		if err != nil {
			return err
		}
		ci, err := o.id("idm01")
		if err != nil {
			return err
		}
		numbers := make([]string, len(incs))
		for i, h := range incs {
			numbers[i] = h.number
		}
		p, err := d.problems.Create(d.as(pm), problem.NewProblem{Title: "Identity Manager password synchronisation fails intermittently",
			Description: "Five incidents in three weeks: a password changed in Windows does not reach the Logistics Portal and the VPN " +
				"until the desk forces a synchronisation on idm01. Each costs the caller an hour and the desk half an hour.",
			Details:   problem.Details{Category: "access", Subcategory: "password", Impact: 2, Urgency: 2, CIID: ci},
			ServiceID: svc, Incidents: numbers})
		number = p.Number
		return err
	})
	d.after(&last, d.day(29, 10, 0), pm+" assigns the problem to Server & Storage", func() error {
		v, err := d.version(pm, number)
		if err != nil {
			return err
		}
		_, err = d.records.Assign(d.as(pm), number, o.team(teamServers), d.user(analyst), v)
		return err
	})
	d.after(&last, d.day(29, 11, 0), analyst+" starts the investigation", func() error {
		_, err := d.problems.Perform(d.as(analyst), number, "investigate", problem.StepInput{
			Comment: "Pulling the PCNS and synchronisation service logs of the last month."})
		return err
	})
	d.note(&last, &number, d.day(28, 16, 30), analyst,
		"Every failed change falls between 01:00 and 01:20, when the backup snapshot of idm01 runs.")
	d.after(&last, d.day(27, 14, 0), analyst+" records a five-whys analysis", func() error {
		_, err := d.problems.RecordRCA(d.as(analyst), number, problem.NewRCA{Method: problem.FiveWhys,
			Findings: "1. Why does the new password not work? Identity Manager never exported it to the Logistics Portal and VPN directories.\n" +
				"2. Why was it not exported? The synchronisation service on idm01 never received it from the domain controllers.\n" +
				"3. Why not? The Password Change Notification Service gave up after its retries while idm01 did not answer.\n" +
				"4. Why did idm01 not answer? The nightly backup snapshot freezes the VM for 90 to 120 seconds at about 01:10.\n" +
				"5. Why does that lose changes? PCNS retries for 60 seconds only, and the snapshot runs inside the synchronisation window.",
			Evidence: []problem.RCAEvidence{
				{Text: "PCNS event log on ndc-dc01: event 6025 'target idm01 unreachable, queue discarded' on 5 of the 5 incident days."},
				{Text: "Backup job history: idm01 snapshot quiesce 01:08-01:10, 94 to 118 seconds."},
			},
			RootCause: "The nightly backup snapshot of idm01 freezes the VM longer than the 60-second retry of the Password Change " +
				"Notification Service, so password changes made before 01:10 are discarded instead of synchronised."})
		return err
	})
	d.after(&last, d.day(27, 14, 30), analyst+" marks the root cause identified", func() error {
		_, err := d.problems.Perform(d.as(analyst), number, "identify_root_cause", problem.StepInput{})
		return err
	})
	d.after(&last, d.day(27, 15, 0), analyst+" records the workaround", func() error {
		v, err := d.version(analyst, number)
		if err != nil {
			return err
		}
		_, err = d.problems.SetWorkaround(d.as(analyst), number, v,
			"Confirm the caller's account name. On idm01 open Synchronization Service Manager, Management Agents, AD MA, "+
				"Run, Delta Synchronization, then Export on the Logistics and VPN agents. Ask the caller to sign out and in. About five minutes.")
		return err
	})
	d.after(&last, d.day(26, 9, 0), analyst+" records the known error", func() error {
		k, err := d.problems.CreateKnownError(d.as(analyst), problem.NewKnownError{Problem: number,
			Title: "Password change not synchronised to the Logistics Portal and VPN",
			Symptoms: "After a password change (self-service or at the desk) Windows takes the new password, while the Logistics " +
				"Portal and the VPN accept only the old one or report the password expired. Usually the morning after a change made late in the day."})
		ke = k.Number
		return err
	})
	d.after(&last, d.day(26, 9, 30), analyst+" publishes the known error", func() error {
		v, err := d.version(analyst, ke)
		if err != nil {
			return err
		}
		_, err = d.problems.PerformKnownError(d.as(analyst), ke, "publish", v, "Published for the desk; it is offered when such an incident is logged.")
		return err
	})
	d.after(&last, d.day(25, 10, 0), analyst+" raises the change", func() error {
		_, err := d.problems.Perform(d.as(analyst), number, "raise_rfc", problem.StepInput{RFC: "RFC-2026-0117",
			Comment: "Move the idm01 snapshot out of the synchronisation window and raise the PCNS retry to ten minutes; for the next CAB."})
		return err
	})

	// The sixth caller, while the change waits: the desk finds the known error
	// on the incident and applies its workaround; the caller has not answered yet.
	six := o.incident(d.day(2, 8, 45), opsIncident{by: "olivia.bennett", channel: "portal",
		title: "Changed my password, the Logistics Portal still wants the old one", impact: 3, urgency: 1,
		category: "access", subcategory: "password", service: demoSvcIdentity,
		description: "I changed my password last night; this morning the Logistics Portal refuses it, Windows takes it."})
	six.assign(d.day(2, 9, 0), "priya.natarajan", teamDesk, "priya.natarajan").
		triage(d.day(2, 9, 2), "priya.natarajan", "", "", "idm01").
		investigate(d.day(2, 9, 5), "priya.natarajan", "The known error offered on the incident matches: applying its workaround.").
		resolve(d.day(2, 9, 20), "priya.natarajan", "known_error",
			"Applied the known error's workaround: delta synchronisation and export on idm01. Please sign out and in again.", 10, false)
	d.after(&last, d.day(1, 11, 0), pm+" links the new password incident to the problem", func() error {
		_, err := d.problems.LinkIncidents(d.as(pm), number, []string{six.number})
		return err
	})
}

// reassigned is an incident the desk hands to the NOC and the incident manager escalates.
func (o *opsStory) reassigned() {
	d := o.d
	slow := o.incident(d.day(46, 9, 15), opsIncident{by: "samuel.adeyemi", channel: "portal", title: "Logistics Portal very slow from San Diego",
		impact: 2, urgency: 2, category: "network", subcategory: "slow", service: demoSvcLogistics, ci: "GCSS Logistics Portal",
		description: "From the San Diego site every page of the Logistics Portal takes 30 seconds or more; colleagues in Norfolk are fine."})
	slow.assign(d.day(46, 9, 30), "priya.natarajan", teamDesk, "priya.natarajan").
		investigate(d.day(46, 9, 35), "priya.natarajan", "Traceroute from SDC shows 20% loss at the sdc-core-sw01 uplink. Network fault: handing to the NOC.").
		assign(d.day(46, 10, 0), "priya.natarajan", teamNOC, "sofia.marin").
		comment(d.day(46, 13, 50), "samuel.adeyemi", "Still slow; we cannot load the manifests for this afternoon's sailing.").
		escalate(d.day(46, 14, 0), "marcus.bell", "Mission impact: the afternoon sailing manifests. NOC lead to put it first.").
		note(d.day(46, 14, 30), "sofia.marin", "CRC errors on the SDC WAN circuit; carrier ticket opened. Traffic moved to the backup circuit meanwhile.").
		hold(d.day(46, 14, 35), "sofia.marin", "awaiting_supplier", "Waiting for the carrier to replace the line card.").
		resume(d.day(45, 8, 40), "sofia.marin", "Carrier replaced the line card overnight.").
		resolve(d.day(45, 9, 0), "sofia.marin", "permanent", "Carrier replaced the faulty line card; no loss on the primary circuit since, traffic moved back.", 180, false).
		confirm(d.day(45, 10, 0), "Fast again.")
}

// major is the night the logistics database cluster lost a node.
func (o *opsStory) major() {
	d := o.d
	m := o.incident(d.day(12, 2, 41), opsIncident{by: "sofia.marin", channel: "event",
		title: "Fleet Logistics Portal down: database connections refused", impact: 1, urgency: 1,
		category: "software", subcategory: "application-error", service: demoSvcLogistics, ci: "logistics-db-cluster",
		team: teamNOC, assignee: "sofia.marin",
		description: "Monitoring: logistics.jesc.example returns 503 since 02:35; logistics-pg refuses connections; ndc-db01 does not answer."})
	m.investigate(d.day(12, 2, 45), "sofia.marin", "The firewall and the web tier are fine; the database tier does not answer.")
	callRoom := o.incident(d.day(12, 2, 52), opsIncident{by: "luis.ortega", caller: "michelle.grant", channel: "phone",
		title: "Logistics Portal error 503 in the continuity watch room", impact: 2, urgency: 1, category: "software",
		subcategory: "application-error", service: demoSvcLogistics, team: teamDesk, assignee: "luis.ortega",
		description: "Michelle is on watch for the DR exercise: the portal shows 'Service unavailable'."})
	tracker := o.incident(d.day(12, 3, 4), opsIncident{by: "kevin.nguyen", channel: "portal", title: "Shipment tracker will not load",
		impact: 3, urgency: 1, category: "software", subcategory: "application-error", service: demoSvcLogistics,
		description: "The shipment tracker of the Logistics Portal spins and then shows an error."})

	m.declare(d.day(12, 2, 50), "marcus.bell", "marcus.bell",
		"Mission-critical Fleet Logistics is down for every user; the incident manager takes it, as Incident Management Policy v2 says").
		update(d.day(12, 2, 55), "marcus.bell", "all",
			"The Fleet Logistics Portal is unavailable since 02:35. Engineers are working on the database cluster. Next update by 03:30.").
		communicate(d.day(12, 2, 58), "marcus.bell", "bridge", "NOC (sofia.marin), Server & Storage on call (hannah.schultz)",
			"Bridge opened. ndc-db01 does not answer; logistics-pg has no primary.").
		assign(d.day(12, 3, 0), "sofia.marin", teamServers, "hannah.schultz").
		communicate(d.day(12, 3, 5), "marcus.bell", "phone", "Joint Staff J4 watch officer",
			"Told them within 30 minutes, as the policy requires: portal down, cause on the database tier, next call on restoration.").
		children(d.day(12, 3, 10), "marcus.bell", callRoom, tracker).
		note(d.day(12, 3, 15), "hannah.schultz", "ndc-db01 lost both power supplies. Promoting ndc-db02 to primary for logistics-pg.").
		update(d.day(12, 3, 30), "marcus.bell", "stakeholders",
			"Cause: a failed database node. Failover to the second node is under way; restoration expected by 04:30.").
		communicate(d.day(12, 3, 35), "marcus.bell", "email", "US Fleet Forces Command N4 duty desk",
			"Outage notice sent with the expected restoration time and the manual fallback for urgent manifests.").
		resolve(d.day(12, 4, 25), "hannah.schultz", "workaround",
			"Promoted ndc-db02 to primary; the portal answers again since 04:18. The cluster runs on two nodes until ndc-db01 is replaced.", 100, false).
		update(d.day(12, 4, 30), "marcus.bell", "all", "Restored at 04:18. Please report anything that still fails to the Service Desk.").
		communicate(d.day(12, 4, 35), "marcus.bell", "phone", "Joint Staff J4 watch officer", "Confirmed restoration; they confirmed manifests load again.").
		review(d.day(11, 10, 0), "marcus.bell", incident.MajorReview{
			Summary:   "Fleet Logistics was down for 1 h 43 min (02:35-04:18) after a database node failed; two users called, the watch officers were told within 30 minutes.",
			RootCause: "Both power supplies of ndc-db01 failed; the cluster did not fail over by itself because automatic promotion was switched off after the spring upgrade.",
			Lessons:   "The failover runbook worked but was done by hand at 3 a.m.; mission partners valued the 30-minute call.",
			Actions:   "Replace ndc-db01 (change raised); re-enable automatic promotion after a test; add power-supply alarms of the database servers to the NOC console."}).
		close(d.day(11, 10, 30), "marcus.bell", "hardware", "server", "Review recorded; the cause was hardware, recategorised at closure.")
	callRoom.confirm(d.day(12, 8, 0), "Portal works for the watch.")
}

// security is a malicious attachment, handled by Information Assurance on the security path.
func (o *opsStory) security() {
	d := o.d
	s := o.incident(d.day(20, 14, 5), opsIncident{by: "daniel.foster", caller: "linda.park", channel: "phone",
		title: "Malicious macro attachment opened", impact: 2, urgency: 1, category: "cnd-cat-7", service: demoSvcEndUser,
		team: teamIA, assignee: "daniel.foster",
		description: "Linda opened 'Q3 fleet schedule.xlsm' from a spoofed J4 address and enabled macros; Excel closed at once. She called the ISSO."})
	s.investigate(d.day(20, 14, 10), "daniel.foster",
		"Workstation isolated through the EDR console. The macro dropped a loader; application control blocked it before it ran.").
		note(d.day(20, 15, 0), "rachel.kim", "Reported to JFHQ-DODIN as CAT 7 within the hour. Mail gateway now quarantines external .xlsm attachments.").
		note(d.day(20, 16, 30), "daniel.foster", "41 other mailboxes received the message; all copies purged. Nobody else opened it.").
		resolve(d.day(19, 11, 30), "daniel.foster", "permanent",
			"Laptop reimaged from the gold image, credentials reset; no lateral movement in the EDR and proxy logs.", 240, false).
		confirm(d.day(19, 13, 0), "Laptop back, thank you.")
}

// workload leaves the desk a realistic queue: work in progress, one on hold,
// new calls not yet picked up, and some with nobody assigned.
func (o *opsStory) workload() {
	d := o.d
	o.incident(d.day(3, 10, 10), opsIncident{by: "priya.natarajan", caller: "angela.ruiz", channel: "phone",
		title: "Calendar not syncing on the mobile phone", impact: 3, urgency: 2, category: "hardware", subcategory: "mobile-device",
		service: demoSvcEndUser, team: teamDesk, assignee: "priya.natarajan",
		description: "Angela's phone shows no meetings after Tuesday; mail arrives."}).
		investigate(d.day(3, 10, 20), "priya.natarajan", "The device partnership is stale; it needs re-enrolment with the phone in hand.").
		hold(d.day(3, 10, 40), "priya.natarajan", "awaiting_caller", "Asked Angela to bring the phone to the desk.")
	o.incident(d.day(2, 8, 30), opsIncident{by: "linda.park", channel: "portal", title: "VPN disconnects every ten minutes",
		impact: 2, urgency: 2, category: "network", subcategory: "vpn", service: demoSvcEndUser,
		description: "Working from home, the VPN drops every ten minutes and reconnects; Teams calls drop with it."}).
		assign(d.day(2, 8, 50), "tom.kowalski", teamDesk, "tom.kowalski").
		investigate(d.day(2, 9, 0), "tom.kowalski", "Client logs show rekey failures; checking with the NOC whether the gateway changed.")
	o.incident(d.day(2, 13, 15), opsIncident{by: "jasmine.carter", caller: "robert.haines", channel: "phone",
		title: "Cannot open encrypted e-mail from NAVIFOR", impact: 3, urgency: 1, category: "access", subcategory: "certificate",
		service: demoSvcIdentity, team: teamDesk, assignee: "jasmine.carter",
		description: "Encrypted messages from Naval Information Forces say the certificate is not available."})
	o.incident(d.day(1, 9, 5), opsIncident{by: "kevin.nguyen", channel: "portal", title: "Scanner on the second floor sends blank PDFs",
		impact: 3, urgency: 3, category: "hardware", subcategory: "printer", service: demoSvcEndUser,
		description: "Scan to e-mail arrives, but every page of the PDF is blank."})
	o.incident(d.day(1, 11, 40), opsIncident{by: "natalie.cho", channel: "portal", title: "Shared drive S: missing after reboot",
		impact: 3, urgency: 1, category: "software", subcategory: "operating-system", service: demoSvcEndUser,
		description: "After this morning's restart the S: drive is gone; I need the release notes on it by noon."})
	o.incident(d.day(1, 14, 20), opsIncident{by: "priya.natarajan", caller: "laura.simmons", channel: "phone",
		title: "Logistics Portal report export times out", impact: 2, urgency: 1, category: "software", subcategory: "application-error",
		service: demoSvcLogistics, ci: "GCSS Logistics Portal", team: teamDesk,
		description: "The monthly availability report export fails after two minutes with a timeout; needed for tomorrow's service review."})
	o.incident(d.day(1, 16, 0), opsIncident{by: "tom.kowalski", caller: "michelle.grant", channel: "phone",
		title: "DR exercise laptop will not boot", impact: 2, urgency: 2, category: "hardware", subcategory: "laptop",
		service: demoSvcEndUser, team: teamDesk, assignee: "tom.kowalski",
		description: "One of the six exercise laptops stops at the BitLocker recovery screen."}).
		investigate(d.day(1, 16, 10), "tom.kowalski", "Recovery key requested from IA; the TPM was cleared by the firmware update.")
	o.incident(d.day(1, 22, 50), opsIncident{by: "luis.ortega", caller: "gregory.tan", channel: "phone",
		title: "Backup console reports access denied", impact: 3, urgency: 2, category: "access", subcategory: "permissions",
		service: demoSvcIdentity, team: teamDesk,
		description: "On call: the backup console refuses Gregory's administrator account since the group clean-up."})
}

// ---- the catalog and requests ----

// catalog has the request fulfilment manager define three catalog items, and staff request them.
func (o *opsStory) catalog() {
	d := o.d
	items := []struct {
		name, description, category, service string
		hours                                int64
		form                                 func() request.Form
	}{
		{demoItemLaptop, "A laptop for a new starter or to replace one that is out of warranty. Your manager and asset management approve it.",
			"hardware", demoSvcEndUser, 120, func() request.Form {
				return request.Form{
					Variables: []request.FormVariable{
						{Name: "model", Label: "Model", Type: request.Choice, Required: true,
							Choices: []string{"Standard 14-inch laptop", "Mobile workstation 16-inch"}},
						{Name: "reason", Label: "Why do you need it?", Type: request.Text, Required: true},
						{Name: "needed_by", Label: "Needed by", Type: request.Date},
						{Name: "old_asset", Label: "Asset tag of the laptop it replaces", Type: request.Text},
					},
					Approvals: []request.CatalogApproval{{Kind: request.ManagerApproval},
						{Kind: request.GroupApproval, TeamID: o.team(teamChange)}},
					Tasks: []request.CatalogTask{
						{Name: "Image, encrypt and enrol the laptop", TeamID: o.team(teamDesk), Stage: 1,
							Description: "Gold image, BitLocker with the TPM, enrol in device management."},
						{Name: "Issue the device certificate", TeamID: o.team(teamIA), Stage: 1,
							Description: "Issue the machine certificate for 802.1X and the VPN."},
						{Name: "Deliver the laptop and collect the old one", TeamID: o.team(teamDesk), Stage: 2,
							Description: "Hand over, move the user's data, collect the old laptop for wiping."},
					}}
			}},
		{demoItemSoftware, "Software from the approved list, installed remotely. Standard request: no approval.",
			"software", demoSvcEndUser, 24, func() request.Form {
				return request.Form{
					Variables: []request.FormVariable{
						{Name: "software", Label: "Software", Type: request.Choice, Required: true,
							Choices: []string{"Microsoft Visio", "Microsoft Project", "Adobe Acrobat Pro", "ArcGIS Pro", "Notepad++"}},
						{Name: "asset_tag", Label: "Asset tag of your computer", Type: request.Text, Required: true},
					},
					Approvals: []request.CatalogApproval{},
					Tasks: []request.CatalogTask{{Name: "Install the software remotely", TeamID: o.team(teamDesk), Stage: 1,
						Description: "Install through the software centre and confirm with the requester."}}}
			}},
		{demoItemAccess, "An account or a role on a mission application. The owner of the Identity and Access service approves it.",
			"access", demoSvcIdentity, 48, func() request.Form {
				return request.Form{
					Variables: []request.FormVariable{
						{Name: "application", Label: "Application", Type: request.Choice, Required: true,
							Choices: []string{"GCSS Logistics Portal", "Identity Manager console"}},
						{Name: "access", Label: "Access level", Type: request.Choice, Required: true,
							Choices: []string{"Read only", "Planner", "Administrator"}},
						{Name: "for_user", Label: "For whom (empty: yourself)", Type: request.UserRef},
						{Name: "justification", Label: "Justification", Type: request.Text, Required: true},
						{Name: "until", Label: "Access ends on", Type: request.Date, Required: true},
					},
					Approvals: []request.CatalogApproval{{Kind: request.ServiceOwnerApproval}},
					Tasks: []request.CatalogTask{{Name: "Create the account and grant the role", TeamID: o.team(teamIA), Stage: 1,
						Description: "Create the account in the application and add it to the role group; record the end date."}}}
			}},
	}
	for i, it := range items {
		d.at(d.day(61, 10, 0).Add(time.Duration(i)*20*time.Minute), "marcus.bell adds "+it.name+" to the catalog", func() error {
			svc, err := o.id(it.service)
			if err != nil {
				return err
			}
			out, err := d.requests.CreateItem(d.as("marcus.bell"), request.CatalogItem{Name: it.name, Description: it.description,
				Category: it.category, ServiceID: svc, Active: true, Form: it.form(), TargetHours: it.hours})
			o.items[it.name] = out.ID
			return err
		})
	}
	date := func(t time.Time) string { return t.Format(time.DateOnly) }

	// A laptop: manager, then asset management, then two parallel tasks, then delivery; accepted.
	laptop := o.request(d.day(56, 10, 0), "laura.simmons", demoItemLaptop, map[string]any{"model": "Standard 14-inch laptop",
		"reason":    "My laptop is five years old, out of warranty, and its battery lasts forty minutes.",
		"needed_by": date(d.day(45, 0, 0)), "old_asset": "JESC-L-0188"}, "")
	laptop.validate(d.day(56, 10, 30), "priya.natarajan", "Catalog item, all fields given.").
		decide(d.day(55, 9, 0), "robert.haines", true, "Approved: Laura's laptop is out of warranty.").
		decide(d.day(55, 14, 0), "brian.walsh", true, "In stock: asset JESC-L-0533 reserved for Laura.").
		start(d.day(54, 9, 0), "tom.kowalski", "Image, encrypt and enrol the laptop", "").
		start(d.day(54, 9, 10), "daniel.foster", "Issue the device certificate", "").
		complete(d.day(54, 11, 0), "daniel.foster", "Issue the device certificate", "Machine certificate issued to JESC-L-0533.").
		complete(d.day(54, 15, 0), "tom.kowalski", "Image, encrypt and enrol the laptop", "Imaged, BitLocker on, enrolled.").
		start(d.day(53, 10, 0), "priya.natarajan", "Deliver the laptop and collect the old one", "").
		complete(d.day(53, 11, 30), "priya.natarajan", "Deliver the laptop and collect the old one",
			"Delivered to Laura, data moved; JESC-L-0188 collected for wiping.").
		comment(d.day(53, 11, 35), "priya.natarajan", "Your new laptop JESC-L-0533 is set up and your files are on it. Please accept the request if all is well.").
		accept(d.day(53, 14, 0), "Working on it already, thank you.")

	// Standard software: no approval, one task, accepted.
	sw := o.request(d.day(41, 9, 20), "kevin.nguyen", demoItemSoftware, map[string]any{"software": "ArcGIS Pro",
		"asset_tag": "JESC-L-0342"}, "For the flood-risk maps of the San Diego DR site.")
	sw.validate(d.day(41, 9, 45), "tom.kowalski", "").
		start(d.day(41, 10, 0), "tom.kowalski", "Install the software remotely", "").
		complete(d.day(41, 10, 40), "tom.kowalski", "Install the software remotely", "ArcGIS Pro 3.2 installed; licence from the pool.").
		comment(d.day(41, 10, 45), "tom.kowalski", "ArcGIS Pro is installed; the licence comes from the shared pool.").
		accept(d.day(40, 8, 30), "")

	// Access: the service owner approves, Information Assurance creates the account.
	acc := o.request(d.day(22, 11, 0), "olivia.bennett", demoItemAccess, map[string]any{"application": "GCSS Logistics Portal",
		"access": "Read only", "justification": "To reproduce defects reported by the logistics users before each release.",
		"until": date(d.day(22, 0, 0).AddDate(0, 6, 0))}, "")
	acc.validate(d.day(22, 11, 20), "jasmine.carter", "").
		decide(d.day(21, 9, 40), "rachel.kim", true, "Read-only access for testing is fine; six months.").
		start(d.day(21, 10, 0), "daniel.foster", "Create the account and grant the role", "").
		complete(d.day(21, 10, 30), "daniel.foster", "Create the account and grant the role", "Account created with the read-only role; ends as requested.").
		comment(d.day(21, 10, 35), "daniel.foster", "Your read-only account on the Logistics Portal is ready; it ends on the date you gave.").
		accept(d.day(21, 13, 0), "")

	// A workstation refused by the manager, with the reason the requester reads.
	ws := o.request(d.day(30, 14, 0), "natalie.cho", demoItemLaptop, map[string]any{"model": "Mobile workstation 16-inch",
		"reason": "Release builds take 40 minutes on my laptop."}, "")
	ws.validate(d.day(30, 14, 20), "jasmine.carter", "").
		decide(d.day(29, 10, 15), "patricia.moore", false,
			"Your laptop was issued in January. Run the release builds on the build server through remote desktop instead.")

	// Waiting at the end: privileged access for the service owner's decision, and a request not yet validated.
	wait := o.request(d.day(3, 15, 0), "samuel.adeyemi", demoItemAccess, map[string]any{"application": "GCSS Logistics Portal",
		"access": "Administrator", "justification": "To deploy the 4.3 release and run its database migrations.",
		"until": date(d.day(3, 0, 0).AddDate(0, 0, 30))}, "Needed for the release in two weeks.")
	wait.validate(d.day(3, 15, 30), "priya.natarajan", "Privileged access: waits for the Identity and Access service owner.")
	o.request(d.day(1, 15, 30), "brian.walsh", demoItemSoftware, map[string]any{"software": "Microsoft Project", "asset_tag": "JESC-L-0291"},
		"For the CMDB clean-up plan.")
}

// demoReq follows one service request of the story.
type demoReq struct {
	o         *opsStory
	title     string
	requester string
	number    string
	last      time.Time
}

// request has who submit a request for a catalog item at t.
func (o *opsStory) request(t time.Time, who, item string, vars map[string]any, description string) *demoReq {
	h := &demoReq{o: o, title: item + " for " + who, requester: who}
	o.d.after(&h.last, t, who+" requests "+item, func() error {
		r, err := o.d.requests.Submit(o.d.as(who), request.NewRequest{CatalogItemID: o.items[item], Variables: vars,
			Description: description})
		h.number = r.Number
		return err
	})
	return h
}

// perform has who take a step of the request.
func (h *demoReq) perform(t time.Time, who, action, comment, reason string) *demoReq {
	h.o.d.after(&h.last, t, who+" "+action+"s "+h.title, func() error {
		v, err := h.o.d.version(who, h.number)
		if err != nil {
			return err
		}
		_, err = h.o.d.requests.Perform(h.o.d.as(who), h.number, action, request.StepInput{Version: v, Comment: comment, Reason: reason})
		return err
	})
	return h
}

// validate has who take the request for the Service Desk and validate it.
func (h *demoReq) validate(t time.Time, who, note string) *demoReq {
	h.o.d.after(&h.last, t, who+" takes "+h.title, func() error {
		v, err := h.o.d.version(who, h.number)
		if err != nil {
			return err
		}
		_, err = h.o.d.records.Assign(h.o.d.as(who), h.number, h.o.team(teamDesk), h.o.d.user(who), v)
		return err
	})
	return h.perform(t.Add(time.Minute), who, request.ActionValidate, note, "")
}

// comment has who write a comment the requester reads.
func (h *demoReq) comment(t time.Time, who, text string) *demoReq {
	h.o.d.after(&h.last, t, who+" comments on "+h.title, func() error {
		_, err := h.o.d.records.AddJournal(h.o.d.as(who), h.number, record.Comment, text)
		return err
	})
	return h
}

func (h *demoReq) accept(t time.Time, note string) *demoReq {
	return h.perform(t, h.requester, request.ActionAccept, note, "")
}

// decide has who approve or reject the approval of the level deciding now that is theirs or their team's.
func (h *demoReq) decide(t time.Time, who string, approve bool, reason string) *demoReq {
	verb := "rejects"
	if approve {
		verb = "approves"
	}
	h.o.d.after(&h.last, t, who+" "+verb+" "+h.title, func() error {
		ctx := h.o.d.as(who)
		r, err := h.o.d.requests.Request(ctx, h.number)
		if err != nil {
			return err
		}
		for _, l := range r.Approvals {
			for _, a := range l.Approvals {
				if a.State != request.ApprovalPending || (a.ApproverID != h.o.d.user(who) && (a.TeamID == 0 || a.TeamID != h.o.team(teamOf(who)))) {
					continue
				}
				if approve {
					_, err = h.o.d.requests.Approve(ctx, h.number, a.ID, reason)
				} else {
					_, err = h.o.d.requests.Reject(ctx, h.number, a.ID, reason)
				}
				return err
			}
		}
		return fmt.Errorf("%s has no approval of %s waiting for %s", h.number, h.title, who)
	})
	return h
}

// task finds the request's open task named name.
func (h *demoReq) task(ctx context.Context, name string) (string, error) {
	r, err := h.o.d.requests.Request(ctx, h.number)
	if err != nil {
		return "", err
	}
	for _, st := range r.Stages {
		for _, tk := range st.Tasks {
			if tk.Name == name && tk.Number != "" {
				return tk.Number, nil
			}
		}
	}
	return "", fmt.Errorf("%s has no task %q open", h.number, name)
}

// start has who take the task named name and start it.
func (h *demoReq) start(t time.Time, who, name, note string) *demoReq {
	h.o.d.after(&h.last, t, who+" starts "+name, func() error {
		ctx := h.o.d.as(who)
		number, err := h.task(ctx, name)
		if err != nil {
			return err
		}
		tk, err := h.o.d.requests.Task(ctx, number)
		if err != nil {
			return err
		}
		if _, err := h.o.d.records.Assign(ctx, number, tk.TeamID, h.o.d.user(who), tk.Version); err != nil {
			return err
		}
		v, err := h.o.d.version(who, number)
		if err != nil {
			return err
		}
		_, err = h.o.d.requests.PerformTask(ctx, number, "start", request.StepInput{Version: v, Comment: note})
		return err
	})
	return h
}

// complete has who complete the task named name.
func (h *demoReq) complete(t time.Time, who, name, note string) *demoReq {
	h.o.d.after(&h.last, t, who+" completes "+name, func() error {
		ctx := h.o.d.as(who)
		number, err := h.task(ctx, name)
		if err != nil {
			return err
		}
		v, err := h.o.d.version(who, number)
		if err != nil {
			return err
		}
		_, err = h.o.d.requests.PerformTask(ctx, number, "complete", request.StepInput{Version: v, Comment: note})
		return err
	})
	return h
}

// opsCounts are what the report says the operations story loaded.
type opsCounts struct {
	incidents, open, unassigned, major, problems, knownErrors, requests, waiting int64
}

// countOps counts the operations records for the report.
func (d *demo) countOps(ctx context.Context) (c opsCounts, err error) {
	err = d.app.DB.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM records WHERE type = ?),
		(SELECT COUNT(*) FROM records WHERE type = ? AND closed = ?),
		(SELECT COUNT(*) FROM records WHERE type = ? AND closed = ? AND assignee_id IS NULL),
		(SELECT COUNT(*) FROM incidents WHERE path = 'major'),
		(SELECT COUNT(*) FROM records WHERE type = ?),
		(SELECT COUNT(*) FROM records WHERE type = ? AND state = ?),
		(SELECT COUNT(*) FROM records WHERE type = ?),
		(SELECT COUNT(*) FROM records WHERE type = ? AND state = ?)`,
		incident.Type, incident.Type, false, incident.Type, false, problem.ProblemType, problem.KnownErrorType, problem.Published,
		request.RequestType, request.RequestType, request.AwaitingApproval).
		Scan(&c.incidents, &c.open, &c.unassigned, &c.major, &c.problems, &c.knownErrors, &c.requests, &c.waiting)
	return c, err
}

// counted is n with the noun in the singular or the plural: "1 problem", "2 problems".
func counted(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
