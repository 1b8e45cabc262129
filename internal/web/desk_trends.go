package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// trendsData is the content of the trends page: recurring incidents grouped by
// category, CI or service over a period, each with a form that raises a problem.
type trendsData struct {
	By        string
	Days, Min int
	From, To  time.Time
	Trends    []incident.IncidentTrend
	// Bys and Periods are the choices of the filter.
	Bys     []option
	Periods []option
	// CanRaise is set when problem management is wired.
	CanRaise bool
	// Error is the refusal of the last "raise a problem", for the group Key.
	Error, ErrorKey string
}

// trendPeriods are the periods a trend may look back over, in days.
var trendPeriods = []int{7, 30, 90, 180, 365}

// trends serves GET /desk/trends: proactive problem management (PM2) looks for
// incidents that recur on a category, a CI or a service.
func (s *site) trends(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.renderTrends(w, r, p, http.StatusOK, "", "")
}

func (s *site) renderTrends(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, errMsg, errKey string) error {
	if s.Incidents == nil {
		return errs.E(errs.NotFound, "incident management is not available")
	}
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		v = r.PostForm
	}
	d := &trendsData{By: v.Get("by"), Days: 30, Min: 3, CanRaise: s.Problems != nil, Error: errMsg, ErrorKey: errKey}
	if d.By == "" {
		d.By = "category"
	}
	if n, err := strconv.Atoi(v.Get("days")); err == nil && n > 0 && n <= 366 {
		d.Days = n
	}
	if n, err := strconv.Atoi(v.Get("min")); err == nil && n >= 1 && n <= 1000 {
		d.Min = n
	}
	d.To = time.Now().UTC()
	d.From = d.To.AddDate(0, 0, -d.Days)
	trends, err := s.Incidents.Trends(r.Context(), incident.TrendQuery{By: d.By, From: d.From, To: d.To, Min: d.Min})
	if err != nil {
		return err
	}
	d.Trends = trends
	for _, b := range []struct{ v, l string }{{"category", "Category"}, {"ci", "Configuration item"}, {"service", "Service"}} {
		d.Bys = append(d.Bys, option{Value: b.v, Label: b.l, Selected: b.v == d.By})
	}
	for _, n := range trendPeriods {
		d.Periods = append(d.Periods, option{Value: strconv.Itoa(n), Label: fmt.Sprintf("the last %d days", n), Selected: n == d.Days})
	}
	s.render(w, r, status, "desk-trends", &view{Title: "Recurring incidents", Section: "desk", User: p, Data: d})
	return nil
}

// raiseProblem serves POST /desk/trends/problem: a problem raised from a
// trend (PM2), linked to the trend's most recent incidents, with the trend
// kept as its origin. A refusal re-shows the trends with the reason.
func (s *site) raiseProblem(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if s.Problems == nil {
		return errs.E(errs.NotFound, "problem management is not available")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	by, key, label := f.Get("by"), f.Get("key"), strings.TrimSpace(f.Get("label"))
	from, err1 := time.Parse(time.RFC3339, f.Get("from"))
	to, err2 := time.Parse(time.RFC3339, f.Get("to"))
	count, err3 := strconv.ParseInt(f.Get("count"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return errs.E(errs.Invalid, "the trend's period or count is not one this page wrote")
	}
	if label == "" {
		label = key
	}
	incidents := strings.Fields(f.Get("incidents"))
	in := problem.NewProblem{Title: clip("Recurring incidents: "+label, 200),
		Description: fmt.Sprintf("%d incidents on %s %s between %s and %s (trend view); the %d most recent are linked.",
			count, by, label, from.Format("2 Jan 2006"), to.Format("2 Jan 2006"), len(incidents)),
		Details:   problem.Details{Impact: 2, Urgency: 2},
		Incidents: incidents,
		Trend:     &problem.ProblemTrend{By: problem.TrendBy(by), Key: key, From: from, To: to, Count: count}}
	switch by {
	case "category":
		in.Details.Category = key
	case "ci":
		in.Details.CIID, _ = strconv.ParseInt(key, 10, 64)
	case "service":
		in.ServiceID, _ = strconv.ParseInt(key, 10, 64)
	}
	out, err := s.Problems.Create(r.Context(), in)
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind == errs.Internal {
			return err
		}
		msg := sentence(e.Message)
		for _, fe := range e.Fields {
			msg = sentence(fe.Message)
		}
		return s.renderTrends(w, r, p, httpx.Status(e.Kind), msg, key)
	}
	redirect(w, r, "/records/"+out.Number)
	return nil
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
