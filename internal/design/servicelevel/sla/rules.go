package sla

// Record types and states the default rules know (those of
// internal/operation/incident and internal/operation/request, which this
// package does not import).
const (
	typeIncident       = "incident"
	typeServiceRequest = "service_request"
	typeRequest        = "request"
)

// holdReasonsPaused are the incident hold reasons that pause the resolution
// clock: the wait is on the caller, a supplier or a change.
var holdReasonsPaused = []string{"awaiting_caller", "awaiting_supplier", "awaiting_change"}

var (
	// incidentResponse starts at creation and stops once the incident leaves
	// new or an assignee is set; a cancelled or reclassified incident cancels it.
	incidentResponse = Rule{
		Stop: Condition{States: []string{"in_progress", "on_hold", "resolved", "closed"},
			Any: []Condition{{Fields: map[string][]string{FieldAssignee: {"*"}}}}},
		Cancel: Condition{States: []string{"cancelled", "reclassified"}},
	}
	// incidentResolution starts at creation, pauses on hold for the caller, a
	// supplier or a change, stops when resolved or closed (and runs on from
	// there when the incident is reopened or its resolution rejected).
	incidentResolution = Rule{
		Pause:  Condition{States: []string{"on_hold"}, Fields: map[string][]string{FieldHoldReason: holdReasonsPaused}},
		Stop:   Condition{States: []string{"resolved", "closed"}},
		Cancel: Condition{States: []string{"cancelled", "reclassified"}},
	}
	// requestResponse starts at submission and stops once the request is
	// validated (leaves submitted) or an assignee is set.
	requestResponse = Rule{
		Stop: Condition{States: []string{"awaiting_approval", "in_fulfilment", "awaiting_acceptance", "closed"},
			Any: []Condition{{Fields: map[string][]string{FieldAssignee: {"*"}}}}},
		Cancel: Condition{States: []string{"rejected", "cancelled"}},
	}
	// requestFulfilment starts at submission, pauses while awaiting approval,
	// stops when fulfilled (awaiting acceptance) or closed, and runs on when
	// the requester reports it not done.
	requestFulfilment = Rule{
		Pause:  Condition{States: []string{"awaiting_approval"}},
		Stop:   Condition{States: []string{"awaiting_acceptance", "closed"}},
		Cancel: Condition{States: []string{"rejected", "cancelled"}},
	}
	// genericResolution is for other record types: it stops in the usual end
	// states and cancels in the usual abandoned ones.
	genericResolution = Rule{
		Stop:   Condition{States: []string{"resolved", "closed", "done", "completed", "fulfilled"}},
		Cancel: Condition{States: []string{"cancelled", "rejected", "reclassified"}},
	}
	// genericResponse is for other record types: it stops when an assignee is
	// set or the record reaches an end state.
	genericResponse = Rule{
		Stop: Condition{States: genericResolution.Stop.States,
			Any: []Condition{{Fields: map[string][]string{FieldAssignee: {"*"}}}}},
		Cancel: genericResolution.Cancel,
	}
)

// defaultRule is DefaultRule without the copy (shared: never modify it).
func defaultRule(k Kind, recordType string) *Rule {
	switch recordType {
	case typeIncident:
		if k == KindResponse {
			return &incidentResponse
		}
		return &incidentResolution
	case typeServiceRequest, typeRequest:
		if k == KindResponse {
			return &requestResponse
		}
		return &requestFulfilment
	}
	if k == KindResponse {
		return &genericResponse
	}
	return &genericResolution
}

// DefaultRule is the clock rule a target of kind k uses on records of a type
// when its agreement gives none. Every default clock starts at creation.
//   - incident: response stops when the state leaves new or an assignee is
//     set; resolution (and fulfilment, custom) pauses while on_hold with
//     holdReason awaiting_caller, awaiting_supplier or awaiting_change and
//     stops in resolved or closed; both cancel in cancelled or reclassified.
//     A reopened incident's clock runs on from where it stopped (no reset).
//   - service_request (or "request"): response stops when the state leaves
//     submitted or an assignee is set; fulfilment (and resolution, custom)
//     pauses in awaiting_approval and stops in awaiting_acceptance or closed
//     (a request reported not done runs on); both cancel in rejected or
//     cancelled.
//   - any other type: stops in resolved, closed, done, completed or fulfilled
//     (response also when an assignee is set); cancels in cancelled, rejected
//     or reclassified.
//
// The Rule returned is the caller's own copy.
func DefaultRule(k Kind, recordType string) Rule {
	return defaultRule(k, recordType).clone()
}

func (r Rule) clone() Rule {
	return Rule{Start: r.Start.clone(), Pause: r.Pause.clone(), Stop: r.Stop.clone(), Reset: r.Reset.clone(), Cancel: r.Cancel.clone()}
}

func (c Condition) clone() Condition {
	out := Condition{States: append([]string(nil), c.States...)}
	if c.Fields != nil {
		out.Fields = make(map[string][]string, len(c.Fields))
		for k, v := range c.Fields {
			out.Fields[k] = append([]string(nil), v...)
		}
	}
	for _, a := range c.Any {
		out.Any = append(out.Any, a.clone())
	}
	return out
}

// isZero reports whether a rule lists no condition at all (the agreement
// left it to the default).
func (r *Rule) isZero() bool {
	return r.Start.empty() && r.Pause.empty() && r.Stop.empty() && r.Reset.empty() && r.Cancel.empty()
}
