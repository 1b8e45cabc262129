package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// The agreements of service level management (SLAs, OLAs and UCs): the list,
// filtered by kind and state, and an agreement's page with its services, the
// agreements underpinning it or that it underpins, its targets and terms, and
// its workflow steps (negotiate, agree, archive, revise), taken through
// servicelevel.Service.Perform so that the SLM RACI decides.

// agreementPageSize is how many agreements one list page shows.
const agreementPageSize = 50

// agreementsData is the content of the agreements list.
type agreementsData struct {
	Kind, State string
	Kinds       []option
	States      []option
	Items       []servicelevel.Agreement
	Total       int64
	Next        string
	Paged       bool
	Form        *form
}

// agreementList serves GET /agreements.
func (s *site) agreementList(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	q := r.URL.Query()
	d := &agreementsData{Kind: q.Get("kind"), State: q.Get("state"), Form: newForm(), Paged: q.Get("cursor") != ""}
	d.Kinds = []option{{Value: "", Label: "Any kind", Selected: d.Kind == ""}}
	for _, k := range servicelevel.Kinds {
		d.Kinds = append(d.Kinds, option{Value: string(k), Label: string(k), Selected: string(k) == d.Kind})
	}
	d.States = []option{{Value: "", Label: "Any state", Selected: d.State == ""}}
	if t, err := s.Records.Type(servicelevel.AgreementType); err == nil {
		for _, st := range t.States {
			d.States = append(d.States, option{Value: st.Name, Label: st.Label, Selected: st.Name == d.State})
		}
	}
	status := http.StatusOK
	page, total, err := s.Levels.Agreements(r.Context(), servicelevel.AgreementFilter{Kind: servicelevel.Kind(d.Kind), State: d.State},
		listing.Params{Limit: agreementPageSize, Cursor: q.Get("cursor")})
	switch {
	case err == nil:
		d.Items, d.Total = page.Items, total
		if page.NextCursor != "" {
			next := url.Values{"cursor": {page.NextCursor}}
			if d.Kind != "" {
				next.Set("kind", d.Kind)
			}
			if d.State != "" {
				next.Set("state", d.State)
			}
			d.Next = "/agreements?" + next.Encode()
		}
	case d.Form.FromError(err):
		status = http.StatusUnprocessableEntity
	default:
		return err
	}
	s.render(w, r, status, "agreements", &view{Title: "Agreements", Section: "sla", User: p, Data: d})
	return nil
}

// agreementData is the content of an agreement's page.
type agreementData struct {
	A servicelevel.AgreementDetail
	// StateLabel is the agreement's state as people read it.
	StateLabel string
	Targets    []targetView
	Terms      []termView
	Actions    []actionView
	AnyAllowed bool
	Form       *form
}

// targetView is one target as the agreement's page lists it.
type targetView struct {
	servicelevel.Target
	Duration, Goal, Applies string
}

// termView is one term with the target it is about.
type termView struct {
	servicelevel.Term
	Target, Trigger string
}

// agreementPage serves GET /agreements/{number}.
func (s *site) agreementPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.renderAgreement(w, r, p, http.StatusOK, record.NormalizeNumber(r.PathValue("number")), newForm())
}

// renderAgreement writes an agreement's page with the actions form f.
func (s *site) renderAgreement(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, number string, f *form) error {
	ctx := r.Context()
	a, err := s.Levels.Agreement(ctx, number)
	if err != nil {
		return err
	}
	d := &agreementData{A: a, Form: f, StateLabel: words(a.State)}
	if t, err := s.Records.Type(servicelevel.AgreementType); err == nil {
		for _, st := range t.States {
			if st.Name == a.State {
				d.StateLabel = st.Label
			}
		}
	}
	names := map[int64]string{}
	for _, t := range a.Targets {
		names[t.ID] = t.Name
		tv := targetView{Target: t, Applies: targetApplies(t)}
		switch {
		case t.Kind == servicelevel.Availability:
			tv.Goal = percent(t.Percent) + " available"
		case t.DurationMs > 0:
			tv.Duration = spanMs(t.DurationMs)
			if t.Percent > 0 {
				tv.Goal = percent(t.Percent) + " within it"
			}
		}
		d.Targets = append(d.Targets, tv)
	}
	for _, t := range a.Terms {
		tv := termView{Term: t, Target: names[t.TargetID]}
		switch t.Trigger {
		case servicelevel.BreachesOver:
			tv.Trigger = "more than " + strconv.FormatFloat(t.Threshold, 'f', -1, 64) + " breaches in a period"
		case servicelevel.AchievementBelow:
			tv.Trigger = "achievement below " + percent(t.Threshold)
		default:
			tv.Trigger = words(string(t.Trigger))
		}
		d.Terms = append(d.Terms, tv)
	}
	acts, err := s.Levels.Actions(ctx, servicelevel.AgreementType, a.Number)
	if err != nil {
		return err
	}
	for i, act := range acts {
		av := actionView{Action: act, Index: i}
		d.Actions = append(d.Actions, av)
		d.AnyAllowed = d.AnyAllowed || av.OK()
	}
	s.render(w, r, status, "agreement", &view{Title: a.Number + " " + a.Title, Section: "sla", User: p, Data: d,
		Flash: flashes[r.URL.Query().Get("m")]})
	return nil
}

// targetApplies says which records a target measures.
func targetApplies(t servicelevel.Target) string {
	if t.Kind == servicelevel.Availability {
		return "its services, in the calendar's hours"
	}
	var parts []string
	if t.Priority != 0 {
		parts = append(parts, priorityLabel(t.Priority))
	}
	for _, rt := range t.RecordTypes {
		parts = append(parts, words(rt))
	}
	if len(t.Categories) > 0 {
		parts = append(parts, "categories "+strings.Join(t.Categories, ", "))
	}
	if len(t.CustomerTeams) > 0 {
		parts = append(parts, strconv.Itoa(len(t.CustomerTeams))+" customer team(s)")
	}
	if len(parts) == 0 {
		return "all records of its services"
	}
	return strings.Join(parts, " · ")
}

// agreementStep serves POST /agreements/{number}/actions/{action}: a workflow step of an agreement.
func (s *site) agreementStep(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	number := record.NormalizeNumber(r.PathValue("number"))
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	f := newForm()
	f.Values["comment"] = r.PostFormValue("comment")
	res, err := s.Levels.Perform(r.Context(), servicelevel.AgreementType, number, r.PathValue("action"),
		servicelevel.StepInput{Version: version, Comment: strings.TrimSpace(f.Values["comment"])})
	if err != nil {
		kind := errs.KindOf(err)
		if kind == errs.NotFound || kind == errs.Internal {
			return err
		}
		if !f.FromError(err) {
			f.Error = sentence(errMessage(err))
		}
		return s.renderAgreement(w, r, p, httpx.Status(kind), number, f)
	}
	m := "action-applied"
	switch res.Outcome {
	case record.OutcomeAwaitingConsultation:
		m = "action-consulting"
	case record.OutcomeAwaitingApproval:
		m = "action-approval"
	}
	redirect(w, r, "/agreements/"+number+"?m="+m)
	return nil
}

// agreementDate writes a date (2026-01-31) as people read it; anything else as it is.
func agreementDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("2 January 2006")
}

func init() { templateFuncs["agreementDate"] = agreementDate }
