package web

import (
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"steward/internal/design/availability"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/web/chart"
)

// The availability dashboard of a service (AvM2): availability against its
// agreed target per month, downtime per month, the mean times between
// failures, to restore service and between service incidents, and the outages
// counted, from availability.Service.Availability.

// availabilityData is the content of the availability dashboard.
type availabilityData struct {
	Report availability.AvailabilityReport
	Period period
	// Trend draws the availability per month against the target; Downtime the downtime per month.
	Trend, Downtime template.HTML
	// Percent, MTBF, MTRS and MTBSI are the period's figures as people read them.
	Percent, MTBF, MTRS, MTBSI string
	Agreed, Down, Planned      string
	// Hours names the service hours measured.
	Hours string
	// Outages are the outages counted, newest first.
	Outages []outageRow
	// HasSLA is set when service level management is wired, for the link to the SLA dashboard.
	HasSLA bool
}

// outageRow is one outage as the dashboard lists it.
type outageRow struct {
	availability.Outage
	Duration string
	Ongoing  bool
}

// availabilityPage serves GET /availability/services/{id}.
func (s *site) availabilityPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "there is no such service")
	}
	now := time.Now()
	per := readPeriod(r.URL.Query(), now)
	rep, err := s.Availability.Availability(r.Context(), id, per.From, per.To)
	if err != nil {
		if errs.KindOf(err) == errs.Invalid {
			return errs.E(errs.NotFound, "there is no such service in the CMDB")
		}
		return err
	}
	d := &availabilityData{Report: rep, Period: per, Percent: percent(rep.Percent), MTBF: optSpanMs(rep.MTBFms), MTRS: optSpanMs(rep.MTRSms),
		MTBSI: optSpanMs(rep.MTBSIms), Agreed: spanMs(rep.AgreedMs), Down: spanMs(rep.DowntimeMs), Planned: spanMs(rep.PlannedMs), HasSLA: s.Levels != nil}
	d.Hours = "24×7"
	if rep.CalendarID != 0 && s.Calendars != nil {
		if c, err := s.Calendars.Get(r.Context(), rep.CalendarID); err == nil {
			d.Hours = c.Name
		}
	}
	labels := make([]string, len(rep.Monthly))
	pct := make([]float64, len(rep.Monthly))
	unplanned := make([]float64, len(rep.Monthly))
	planned := make([]float64, len(rep.Monthly))
	for i, m := range rep.Monthly {
		labels[i] = shortMonth(m.Month)
		pct[i] = m.Percent
		if m.AgreedMs == 0 && m.PlannedMs == 0 {
			pct[i] = math.NaN()
		}
		unplanned[i] = float64(m.DowntimeMs) / float64(time.Hour/time.Millisecond)
		planned[i] = float64(m.PlannedMs) / float64(time.Hour/time.Millisecond)
	}
	var target *chart.Target
	lo := 100.0
	for _, v := range pct {
		if !math.IsNaN(v) {
			lo = min(lo, v)
		}
	}
	if rep.Target != nil {
		target = &chart.Target{Value: rep.Target.Percent, Label: "Target " + percent(rep.Target.Percent)}
		lo = min(lo, rep.Target.Percent)
	}
	axisMin := math.Max(0, math.Floor(lo)-1)
	name := rep.ServiceName
	d.Trend = chart.Line{Common: chart.Common{ID: "availability-trend", Title: "Availability of " + name + " per month",
		Desc:   "Availability in percent of agreed service time, per month" + targetWords(target) + ".",
		Labels: labels, Series: []chart.Series{{Name: "Availability", Values: pct}}, Format: percent,
		Axis: chart.Number(axisDecimals(100-axisMin), "%"), Min: axisMin, Max: 100}, Target: target}.Render()
	d.Downtime = chart.Bar{Common: chart.Common{ID: "downtime", Title: "Downtime of " + name + " per month, in hours",
		Desc:   "Unplanned downtime and planned outages per month, in hours of service time.",
		Labels: labels, Series: []chart.Series{{Name: "Unplanned downtime", Class: "ch-unplanned", Values: unplanned}, {Name: "Planned outages", Class: "ch-planned", Values: planned}},
		Format: chart.Number(1, "h")}, Totals: true}.Render()
	for i := len(rep.Outages) - 1; i >= 0; i-- {
		o := rep.Outages[i]
		row := outageRow{Outage: o, Ongoing: o.EndedAt == nil}
		end := now
		if o.EndedAt != nil {
			end = *o.EndedAt
		}
		row.Duration = span(end.Sub(o.StartedAt))
		d.Outages = append(d.Outages, row)
	}
	s.render(w, r, http.StatusOK, "availability", &view{Title: "Availability: " + name, Section: "availability", User: p, Data: d})
	return nil
}

// targetWords says what a target line shows, for a chart's description.
func targetWords(t *chart.Target) string {
	if t == nil {
		return ""
	}
	return ", against the " + t.Label
}

// axisDecimals is how many decimals an axis spanning width needs.
func axisDecimals(width float64) int {
	switch {
	case width < 2:
		return 2
	case width < 10:
		return 1
	}
	return 0
}
