package app

// The demo's Service Design story: before the operations story begins, the
// service level manager agrees an SLA for Fleet Logistics with US Fleet Forces
// Command (24×7, underpinned by an OLA with Server & Storage and a UC with the
// data-centre power supplier) and one for End-User Services on the business
// calendar; the availability manager records a planned maintenance window and
// keeps an availability plan; at the end the SLA clocks are computed from the
// records' audit history, the major incident becomes an outage, and the
// service level manager reviews the month and opens an improvement plan.

import (
	"fmt"
	"time"

	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/platform/calendar"
)

// slaStory is the state the service-design story shares between its events.
type slaStory struct {
	d *demo
	// ops looks CMDB services up by name.
	ops *opsStory
	// numbers are the agreements by a short key.
	numbers map[string]string
}

// scheduleServiceLevels tells the story of service level and availability management.
func (d *demo) scheduleServiceLevels() {
	s := &slaStory{d: d, ops: &opsStory{d: d, ids: map[string]int64{}}, numbers: map[string]string{}}
	s.agreements()
	s.outages()
	s.closing()
}

// target is one time-based target of a demo agreement.
func target(name string, kind servicelevel.TargetKind, priority int, d time.Duration) servicelevel.Target {
	return servicelevel.Target{Name: name, Kind: kind, Priority: priority, DurationMs: d.Milliseconds(), RecordTypes: []string{"incident"}}
}

// agreement drafts an agreement, gives it its targets and terms, and takes it to agreed.
func (s *slaStory) agreement(t time.Time, key string, in servicelevel.NewAgreement, services []string, targets []servicelevel.Target,
	terms func(ts []servicelevel.Target) []servicelevel.Term, underpins []string) {
	d := s.d
	d.at(t, "laura.simmons drafts "+in.Title, func() error {
		for _, name := range services {
			id, err := s.ops.id(name)
			if err != nil {
				return err
			}
			in.Services = append(in.Services, id)
		}
		ctx := d.as("laura.simmons")
		a, err := d.levels.CreateAgreement(ctx, in)
		if err != nil {
			return err
		}
		s.numbers[key] = a.Number
		if a, err = d.levels.SetTargets(ctx, a.Number, a.Version, targets); err != nil {
			return fmt.Errorf("set the targets: %w", err)
		}
		if terms != nil {
			if a, err = d.levels.SetTerms(ctx, a.Number, a.Version, terms(a.Targets)); err != nil {
				return fmt.Errorf("set the terms: %w", err)
			}
		}
		var nums []string
		for _, u := range underpins {
			nums = append(nums, s.numbers[u])
		}
		if len(nums) > 0 {
			if _, err = d.levels.SetUnderpins(ctx, a.Number, a.Version, nums); err != nil {
				return fmt.Errorf("set what underpins it: %w", err)
			}
		}
		return nil
	})
	d.at(t.Add(2*time.Hour), "laura.simmons negotiates "+in.Title, func() error {
		_, err := d.levels.Perform(d.as("laura.simmons"), servicelevel.AgreementType, s.numbers[key], "negotiate",
			servicelevel.StepInput{Comment: "Targets reviewed with " + in.Customer + "."})
		return err
	})
	d.at(t.Add(26*time.Hour), "laura.simmons records the agreement of "+in.Title, func() error {
		_, err := d.levels.Perform(d.as("laura.simmons"), servicelevel.AgreementType, s.numbers[key], "agree",
			servicelevel.StepInput{Comment: "Signed by both parties."})
		return err
	})
}

// agreements are agreed before the operations story's incidents, so that
// every incident of the story has its clocks.
func (s *slaStory) agreements() {
	d := s.d
	resolutionP := func(p int, h float64) servicelevel.Target {
		return target(fmt.Sprintf("Resolve P%d", p), servicelevel.Resolution, p, time.Duration(h*float64(time.Hour)))
	}
	s.agreement(d.day(70, 9, 0), "ola", servicelevel.NewAgreement{Kind: servicelevel.OLA,
		Title: "Server & Storage support for Fleet Logistics", AgreementDetails: servicelevel.AgreementDetails{
			Customer: "Service Desk", Supplier: teamServers, CalendarID: calendar.RoundTheClockID, ReviewMonths: 6}},
		[]string{demoSvcLogistics},
		[]servicelevel.Target{resolutionP(1, 3), resolutionP(2, 6)}, nil, nil)
	s.agreement(d.day(70, 9, 30), "uc", servicelevel.NewAgreement{Kind: servicelevel.UC,
		Title: "Data-centre power and cooling", AgreementDetails: servicelevel.AgreementDetails{
			Customer: "Joint Enterprise Service Center", Supplier: "Tidewater Facilities Inc.", CalendarID: calendar.RoundTheClockID,
			ReviewMonths: 12, Notes: "Contract N00189-26-C-0412."}},
		[]string{demoSvcLogistics},
		[]servicelevel.Target{{Name: "Power availability", Kind: servicelevel.Availability, Percent: 99.99}}, nil, nil)
	s.agreement(d.day(69, 10, 0), "fleet", servicelevel.NewAgreement{Kind: servicelevel.SLA,
		Title: "Fleet Logistics service level agreement", AgreementDetails: servicelevel.AgreementDetails{
			Customer: "US Fleet Forces Command", CalendarID: calendar.RoundTheClockID, StartsOn: d.day(66, 0, 0).Format("2006-01-02"),
			ReviewMonths: 1}},
		[]string{demoSvcLogistics},
		[]servicelevel.Target{
			target("Respond P1", servicelevel.Response, 1, 15*time.Minute),
			target("Respond P2", servicelevel.Response, 2, 30*time.Minute),
			resolutionP(1, 4), resolutionP(2, 8), resolutionP(3, 24), resolutionP(4, 72),
			{Name: "Availability", Kind: servicelevel.Availability, Percent: 99.5},
		},
		func(ts []servicelevel.Target) []servicelevel.Term {
			return []servicelevel.Term{
				{TargetID: ts[2].ID, Kind: servicelevel.Penalty, Trigger: servicelevel.BreachesOver, Threshold: 0,
					Amount: 25000, Currency: "USD", Description: "Service credit for each month with a P1 resolution breach."},
				{Kind: servicelevel.Credit, Trigger: servicelevel.AchievementBelow, Threshold: 95, Amount: 10000,
					Currency: "USD", Description: "Credit when monthly achievement falls below 95 %."},
			}
		}, []string{"ola", "uc"})
	s.agreement(d.day(69, 14, 0), "idm", servicelevel.NewAgreement{Kind: servicelevel.SLA,
		Title: "Identity and Access service level agreement", AgreementDetails: servicelevel.AgreementDetails{
			Customer: "Naval Information Forces", CalendarID: calendar.BusinessID, ReviewMonths: 3}},
		[]string{demoSvcIdentity},
		[]servicelevel.Target{
			target("Respond", servicelevel.Response, 0, 30*time.Minute),
			resolutionP(1, 2), resolutionP(2, 4), resolutionP(3, 8), resolutionP(4, 16),
			{Name: "Availability", Kind: servicelevel.Availability, Percent: 99.9},
		}, nil, nil)
	s.agreement(d.day(62, 16, 0), "enduser", servicelevel.NewAgreement{Kind: servicelevel.SLA,
		Title: "End-user services service level agreement", AgreementDetails: servicelevel.AgreementDetails{
			Customer: "Joint Enterprise Service Center staff", CalendarID: calendar.BusinessID, ReviewMonths: 3}},
		[]string{demoSvcEndUser},
		[]servicelevel.Target{
			target("Respond", servicelevel.Response, 0, time.Hour),
			resolutionP(1, 4), resolutionP(2, 8), resolutionP(3, 16), resolutionP(4, 27), resolutionP(5, 45),
		},
		func(ts []servicelevel.Target) []servicelevel.Term {
			return []servicelevel.Term{{Kind: servicelevel.Credit, Trigger: servicelevel.AchievementBelow, Threshold: 90,
				Description: "Below 90 % the desk presents a service improvement plan at the next review."}}
		}, nil)
}

// outages records a planned maintenance window and keeps the availability plan.
func (s *slaStory) outages() {
	d := s.d
	d.at(d.day(30, 21, 0), "ethan.brooks records the planned database maintenance of Fleet Logistics", func() error {
		id, err := s.ops.id(demoSvcLogistics)
		if err != nil {
			return err
		}
		start := d.day(31, 22, 0)
		end := start.Add(2 * time.Hour)
		_, err = d.availability.RecordOutage(d.as("ethan.brooks"), availability.OutageInput{ServiceID: id, Kind: availability.Planned,
			StartedAt: start, EndedAt: &end, Description: "Quarterly database patching (planned, announced a week ahead)."})
		return err
	})
	d.at(d.day(10, 9, 0), "ethan.brooks opens the Fleet Logistics availability plan after the database outage", func() error {
		id, err := s.ops.id(demoSvcLogistics)
		if err != nil {
			return err
		}
		ctx := d.as("ethan.brooks")
		p, err := d.availability.CreatePlan(ctx, availability.NewPlan{Title: "Fleet Logistics availability plan",
			ServiceID: id, PeriodFrom: d.day(10, 0, 0), PeriodTo: d.day(10, 0, 0).AddDate(0, 6, 0),
			Objective: "Keep Fleet Logistics at 99.5 % or better around the clock; no single database node takes it down."})
		if err != nil {
			return err
		}
		risk, err := d.availability.AddRisk(ctx, p.Number, availability.RiskInput{
			Description: "The logistics database runs on one node; its failure stops the service (as on the night of the major incident).",
			Likelihood:  3, Impact: 5, Treatment: "Add a synchronous standby in the second data centre.", OwnerID: d.user("gregory.tan"),
			State: availability.RiskOpen})
		if err != nil {
			return err
		}
		due := d.day(10, 0, 0).AddDate(0, 2, 0)
		_, err = d.availability.AddAction(ctx, p.Number, availability.ActionInput{RiskID: risk.ID,
			Title: "Build and test the standby database node", OwnerID: d.user("gregory.tan"), DueAt: &due,
			State: availability.ActionOpen})
		return err
	})
}

// closing computes the clocks, mirrors the major incident as an outage, fires
// the escalations due, and reviews End-User Services.
func (s *slaStory) closing() {
	d := s.d
	d.at(d.day(1, 6, 0), "the SLA tracker and the outage sync catch up, as the server's jobs do", func() error {
		for {
			n, err := d.clocks.Refresh(d.base)
			if err != nil {
				return fmt.Errorf("compute the SLA clocks: %w", err)
			}
			if n == 0 {
				break
			}
		}
		if _, err := d.clocks.Sweep(d.base); err != nil {
			return fmt.Errorf("fire the SLA escalations: %w", err)
		}
		_, err := d.availability.SyncMajorIncidents(d.base)
		return err
	})
	d.at(d.day(1, 10, 0), "laura.simmons reviews End-User Services and opens an improvement plan", func() error {
		id, err := s.ops.id(demoSvcEndUser)
		if err != nil {
			return err
		}
		ctx := d.as("laura.simmons")
		r, err := d.levels.CreateReview(ctx, servicelevel.NewReview{Title: "End-User Services: monthly service review",
			ServiceID: id, Agreement: s.numbers["enduser"], From: d.day(31, 0, 0), To: d.day(1, 0, 0)})
		if err != nil {
			return err
		}
		p, err := d.levels.CreatePlan(ctx, servicelevel.NewImprovementPlan{Title: "End-User Services: resolve within target",
			ServiceID: id, Review: r.Number, Objective: "Resolve P3 incidents within 16 business hours in nine cases out of ten."})
		if err != nil {
			return err
		}
		due := d.day(1, 0, 0).AddDate(0, 1, 0)
		_, err = d.levels.AddItem(ctx, p.Number, servicelevel.NewItem{Title: "Publish known errors for the top five password issues",
			OwnerID: d.user("marcus.bell"), DueAt: &due})
		return err
	})
}
