package web

import (
	"context"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/web/chart"
)

// The service level dashboards (SLM6): /sla lists the services the agreed
// SLAs cover with this month's achievement (and availability, when measured);
// /sla/services/{id} shows a service's achievement per month against the goal,
// its breaches per priority and each target's figures, from
// servicelevel.Service.Report. /availability lists the same services for the
// availability dashboards (availability.go).

// coveredService is a service an agreed SLA covers, with this month's figures.
type coveredService struct {
	ID   int64
	Name string
	// Agreements are the agreed SLAs that cover it.
	Agreements []servicelevel.AgreementRef
	// Achievement is this month's met / decided, "—" when nothing was decided.
	Achievement       string
	Met, Breached     int64
	Running           int64
	GoalMissed        bool
	Availability      string
	AvailabilityGoal  string
	AvailabilityMiss  bool
	AvailabilityKnown bool
}

// coveredServices lists the services of the agreed SLAs, by name, with the SLAs that cover them.
func (s *site) coveredServices(ctx context.Context) ([]*coveredService, error) {
	cov, err := s.Levels.Coverage(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*coveredService, len(cov))
	for i, c := range cov {
		out[i] = &coveredService{ID: c.ID, Name: c.Name, Agreements: c.Agreements}
	}
	return out, nil
}

// slaOverview is the content of /sla and /availability.
type slaOverview struct {
	Services []*coveredService
	Month    string
	// ShowAvailability is set when availability is measured.
	ShowAvailability bool
	// Availability picks the availability list's wording and links.
	Availability bool
}

// slaHome serves GET /sla: the covered services with this month's achievement.
func (s *site) slaHome(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.overview(w, r, p, false)
}

// availabilityHome serves GET /availability: the covered services with this month's availability.
func (s *site) availabilityHome(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.overview(w, r, p, true)
}

// overview writes /sla or /availability.
func (s *site) overview(w http.ResponseWriter, r *http.Request, p *auth.Principal, avail bool) error {
	ctx := r.Context()
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var services []*coveredService
	if s.Levels != nil {
		var err error
		if services, err = s.coveredServices(ctx); err != nil {
			return err
		}
	}
	d := &slaOverview{Services: services, Month: month.Format("January 2006"), ShowAvailability: s.Availability != nil, Availability: avail}
	for _, cs := range services {
		if !avail {
			rep, err := s.Levels.Report(ctx, servicelevel.ReportQuery{ServiceID: cs.ID, From: month, To: month.AddDate(0, 1, 0)})
			if err != nil {
				return err
			}
			cs.Achievement = achievementText(rep.Totals.Achievement)
			cs.Met, cs.Breached, cs.Running = rep.Totals.Met, rep.Totals.Breached, rep.Totals.Running
			for _, ar := range rep.Agreements {
				for _, t := range ar.Targets {
					cs.GoalMissed = cs.GoalMissed || (t.GoalMet != nil && !*t.GoalMet)
				}
			}
		}
		if s.Availability != nil {
			av, err := s.Availability.Availability(ctx, cs.ID, month, month.AddDate(0, 1, 0))
			if err != nil {
				return err
			}
			cs.AvailabilityKnown = true
			cs.Availability = percent(av.Percent)
			if av.Target != nil {
				cs.AvailabilityGoal = percent(av.Target.Percent)
				cs.AvailabilityMiss = av.Met != nil && !*av.Met
			}
		}
	}
	title, section := "Service levels", "sla"
	if avail {
		title, section = "Availability", "availability"
	}
	s.render(w, r, http.StatusOK, "sla", &view{Title: title, Section: section, User: p, Data: d})
	return nil
}

// achievementText writes an achievement; nil (nothing decided) is "—".
func achievementText(a *float64) string {
	if a == nil {
		return "—"
	}
	return percent(roundTo(*a, 1))
}

// slaServiceData is the content of a service's SLA dashboard.
type slaServiceData struct {
	ServiceID   int64
	ServiceName string
	Report      servicelevel.AchievementReport
	Period      period
	Achievement string
	// Trend draws the achievement per month against the goal; Breaches the breaches per priority.
	Trend, Breaches template.HTML
	Targets         []targetRow
	HasAvailability bool
	// Goal is the strictest goal stated by a target, "" when none is.
	Goal string
}

// targetRow is one target of the per-target table.
type targetRow struct {
	Agreement servicelevel.AgreementReport
	servicelevel.TargetReport
	Allowed, Achievement, Goal string
	// KindNote names what the target measures when its name does not say it.
	KindNote string
}

// slaService serves GET /sla/services/{id}.
func (s *site) slaService(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "there is no such service")
	}
	name, err := s.serviceName(ctx, id)
	if err != nil {
		return err
	}
	per := readPeriod(r.URL.Query(), time.Now())
	rep, err := s.Levels.Report(ctx, servicelevel.ReportQuery{ServiceID: id, From: per.From, To: per.To})
	if err != nil {
		return err
	}
	d := &slaServiceData{ServiceID: id, ServiceName: name, Report: rep, Period: per, Achievement: achievementText(rep.Totals.Achievement),
		HasAvailability: s.Availability != nil}
	goal := 0.0
	for _, ar := range rep.Agreements {
		for _, t := range ar.Targets {
			goal = max(goal, t.Goal)
			row := targetRow{Agreement: ar, TargetReport: t, Allowed: spanMs(t.DurationMs), Achievement: achievementText(t.Achievement)}
			if !strings.HasPrefix(strings.ToLower(t.Name), string(t.Kind)) {
				row.KindNote = words(string(t.Kind))
			}
			if t.Goal > 0 {
				row.Goal = percent(t.Goal)
			}
			d.Targets = append(d.Targets, row)
		}
	}
	labels := make([]string, len(rep.Months))
	for i, m := range rep.Months {
		labels[i] = shortMonth(m)
	}
	byMonth := map[string]servicelevel.Counts{}
	for _, mc := range rep.ByMonth {
		byMonth[mc.Month] = mc.Counts
	}
	series := []chart.Series{{Name: "All targets", Values: monthlyAchievement(rep.Months, byMonth)}}
	if len(rep.Agreements) > 1 {
		for _, ar := range rep.Agreements {
			sum := map[string]servicelevel.Counts{}
			for _, t := range ar.Targets {
				for _, mc := range t.Trend {
					c := sum[mc.Month]
					c.Met += mc.Met
					c.Breached += mc.Breached
					sum[mc.Month] = c
				}
			}
			series = append(series, chart.Series{Name: ar.Number, Values: monthlyAchievement(rep.Months, sum)})
		}
	}
	var target *chart.Target
	lo := 100.0
	for _, sr := range series {
		for _, v := range sr.Values {
			if !math.IsNaN(v) {
				lo = min(lo, v)
			}
		}
	}
	if goal > 0 {
		d.Goal = percent(goal)
		target = &chart.Target{Value: goal, Label: "Goal " + percent(goal)}
		lo = min(lo, goal)
	}
	axisMin := math.Max(0, math.Floor(lo/5)*5-5)
	d.Trend = chart.Line{Common: chart.Common{ID: "achievement-trend", Title: "Achievement of " + name + " per month",
		Desc:   "Clocks met within their target, in percent of the clocks decided (met or breached) that started in each month" + targetWords(target) + ".",
		Labels: labels, Series: series, Format: func(v float64) string { return percent(roundTo(v, 1)) }, Axis: chart.Number(0, "%"), Min: axisMin, Max: 100},
		Target: target}.Render()
	var pl []string
	var breached []float64
	for _, pc := range rep.ByPriority {
		if pc.Priority == 0 {
			pl = append(pl, "None")
		} else {
			pl = append(pl, priorityLabel(pc.Priority))
		}
		breached = append(breached, float64(pc.Breached))
	}
	d.Breaches = chart.Bar{Common: chart.Common{ID: "breaches-by-priority", Title: "Breaches of " + name + " by priority",
		Desc:   "How many clocks breached their target, per record priority, in the period.",
		Labels: pl, Series: []chart.Series{{Name: "Breaches", Class: "ch-unplanned", Values: breached}}, Format: chart.Number(0, ""), Counts: true},
		Totals: true}.Render()
	s.render(w, r, http.StatusOK, "sla-service", &view{Title: "Service levels: " + name, Section: "sla", User: p, Data: d})
	return nil
}

// monthlyAchievement is met / (met + breached) per month in percent, NaN for a month with nothing decided.
func monthlyAchievement(months []string, counts map[string]servicelevel.Counts) []float64 {
	out := make([]float64, len(months))
	for i, m := range months {
		c := counts[m]
		if c.Met+c.Breached == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = float64(c.Met) / float64(c.Met+c.Breached) * 100
	}
	return out
}

// serviceName is a CMDB service's name; an unknown service is not found.
func (s *site) serviceName(ctx context.Context, id int64) (string, error) {
	if s.CMDB == nil {
		return "service " + itoa(id), nil
	}
	ci, err := s.CMDB.GetCI(ctx, id)
	if err != nil {
		return "", err
	}
	return ci.Name, nil
}
