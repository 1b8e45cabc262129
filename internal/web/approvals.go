package web

import (
	"net/http"
	"regexp"
	"strings"

	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// queueLimit is how many approvals and consultations the queue shows of each.
const queueLimit = 100

// approvalsData is the content of the approvals queue.
type approvalsData struct {
	Approvals     []queuedStep
	Consultations []queuedConsultation
	// Requests are the service-request approvals of catalog items that wait for
	// the user or their team (request fulfilment, RF2), when it is wired.
	Requests []request.PendingRequestApproval
	// More is set when a list was cut at queueLimit.
	More bool
	// Error is the error of the last decision, with what was typed.
	Error *itemError
}

// queuedStep is a step that waits for the user's approval.
type queuedStep struct {
	record.Step
	Title, Label, RequestedBy string
	// FromLabel and ToLabel are the states the step moves the record between, as people read them.
	FromLabel, ToLabel string
}

// queuedConsultation is a consultation that waits for the user's answer.
type queuedConsultation struct {
	record.Consultation
	Title, Label string
}

// approvals serves GET /approvals: the steps waiting for the user's approval
// and the consultations waiting for the user's answer, with their forms.
func (s *site) approvals(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.renderApprovals(w, r, p, http.StatusOK, nil)
}

func (s *site) renderApprovals(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, ie *itemError) error {
	ctx := r.Context()
	d := &approvalsData{Error: ie}
	steps, err := s.Records.Approvals(ctx, record.StepFilter{State: "pending", Mine: true}, listing.Params{Limit: queueLimit, Sort: "id"})
	if err != nil {
		return err
	}
	cs, err := s.Records.Consultations(ctx, record.ConsultationFilter{State: string(record.ConsultationOpen), Mine: true},
		listing.Params{Limit: queueLimit, Sort: "id"})
	if err != nil {
		return err
	}
	d.More = steps.NextCursor != "" || cs.NextCursor != ""
	if s.Requests != nil {
		if d.Requests, err = s.Requests.PendingApprovals(ctx); err != nil {
			return err
		}
	}
	names := s.newUserNames(ctx)
	titles := map[string]string{}
	title := func(number string) string {
		if t, ok := titles[number]; ok {
			return t
		}
		t := ""
		if rec, err := s.Records.Get(ctx, number); err == nil {
			t = rec.Title
		}
		titles[number] = t
		return t
	}
	for _, st := range steps.Items {
		d.Approvals = append(d.Approvals, queuedStep{Step: st, Title: title(st.Record), Label: s.actionLabel(st.RecordType, st.Action),
			RequestedBy: names.name(st.RequestedBy), FromLabel: s.stateLabel(st.RecordType, st.FromState), ToLabel: s.stateLabel(st.RecordType, st.ToState)})
	}
	for _, c := range cs.Items {
		d.Consultations = append(d.Consultations, queuedConsultation{Consultation: c, Title: title(c.Record), Label: s.actionLabel(c.RecordType, c.Action)})
	}
	s.render(w, r, status, "approvals", &view{Title: "My approvals and consultations", Section: "approvals", User: p, Data: d})
	return nil
}

// actionLabel is an action's button text in its record type, or the action's name.
func (s *site) actionLabel(typeName, action string) string {
	t, err := s.Records.Type(typeName)
	if err != nil {
		return action
	}
	for _, tr := range t.Transitions {
		if tr.Action == action && tr.Label != "" {
			return tr.Label
		}
	}
	return action
}

// stateLabel is a state's name as people read it in its record type.
func (s *site) stateLabel(typeName, state string) string {
	if t, err := s.Records.Type(typeName); err == nil {
		if st, ok := t.State(state); ok && st.Label != "" {
			return st.Label
		}
	}
	return state
}

// nextRE is where a decision may send the browser back to: the queue or a record.
var nextRE = regexp.MustCompile(`^/(approvals|records/[A-Z]{2,8}[0-9]+)$`)

// decisionTarget reads the form's "next": the page the decision came from.
func decisionTarget(r *http.Request) string {
	if next := r.PostFormValue("next"); nextRE.MatchString(next) {
		return next
	}
	return "/approvals"
}

// decideStep serves POST /approvals/{id}/approve and /reject. A problem
// re-shows the page the form was on, with the reason typed and the error.
func (s *site) decideStep(approve bool) userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, ok := pathID(r)
		if !ok {
			return errs.E(errs.NotFound, "no such approval")
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		reason := r.PostFormValue("reason")
		var err error
		m := "step-approved"
		if approve {
			_, err = s.Records.Approve(r.Context(), id, reason)
		} else {
			m = "step-rejected"
			if strings.TrimSpace(reason) == "" {
				err = errs.E(errs.Invalid, "give the reason for the rejection")
			} else {
				_, err = s.Records.Reject(r.Context(), id, reason)
			}
		}
		return s.afterDecision(w, r, p, err, &itemError{Kind: "step", ID: id, Text: reason}, m)
	}
}

// decideRequestApproval serves POST /approvals/requests/{number}/{id}/approve
// and /reject: a catalog item's approval level (RF2). A rejection needs its
// reason, which the requester reads.
func (s *site) decideRequestApproval(approve bool) userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, ok := pathID(r)
		if !ok || s.Requests == nil {
			return errs.E(errs.NotFound, "no such approval")
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		number, reason := r.PathValue("number"), r.PostFormValue("reason")
		var err error
		m := "step-approved"
		if approve {
			_, err = s.Requests.Approve(r.Context(), number, id, reason)
		} else {
			m = "step-rejected"
			if strings.TrimSpace(reason) == "" {
				err = errs.E(errs.Invalid, "give the reason for the rejection: the requester reads it")
			} else {
				_, err = s.Requests.Reject(r.Context(), number, id, reason)
			}
		}
		return s.afterDecision(w, r, p, err, &itemError{Kind: "request", ID: id, Text: reason}, m)
	}
}

// closeConsultation serves POST /consultations/{id}/answer and /waive.
func (s *site) closeConsultation(answer bool) userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, ok := pathID(r)
		if !ok {
			return errs.E(errs.NotFound, "no such consultation")
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		text := r.PostFormValue("text")
		var err error
		m := "consultation-answered"
		switch {
		case strings.TrimSpace(text) == "" && answer:
			err = errs.E(errs.Invalid, "write your answer")
		case strings.TrimSpace(text) == "":
			err = errs.E(errs.Invalid, "give the reason for waiving the consultation")
		case answer:
			_, err = s.Records.AnswerConsultation(r.Context(), id, text)
		default:
			m = "consultation-waived"
			_, err = s.Records.WaiveConsultation(r.Context(), id, text)
		}
		return s.afterDecision(w, r, p, err, &itemError{Kind: "consultation", ID: id, Text: text}, m)
	}
}

// afterDecision sends the browser back to where the decision came from, or
// re-shows that page with the error next to the item.
func (s *site) afterDecision(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, ie *itemError, flash string) error {
	next := decisionTarget(r)
	if err == nil {
		redirect(w, r, next+"?m="+flash)
		return nil
	}
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.NotFound {
		return err
	}
	ie.Message = sentence(e.Message)
	for _, fe := range e.Fields {
		ie.Message = sentence(fe.Message)
	}
	if number, isRecord := strings.CutPrefix(next, "/records/"); isRecord {
		return s.renderRecord(w, r, p, httpx.Status(e.Kind), number, newForm(), newForm(), ie)
	}
	return s.renderApprovals(w, r, p, httpx.Status(e.Kind), ie)
}
