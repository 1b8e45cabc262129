package web

import (
	"net/http"

	"steward/internal/platform/auth"
)

// domain is one of the five DESMF service lifecycle domains.
type domain struct {
	Key, Path, Name string
	// Summary says in one line what the domain covers.
	Summary string
	// Processes are the DESMF processes the domain holds.
	Processes []string
}

// domains are the DESMF service lifecycle domains, in lifecycle order.
var domains = []domain{
	{Key: "strategy", Path: "/strategy", Name: "Service Strategy",
		Summary:   "Decides which services to offer and why: the portfolio, the catalogue, their funding, the demand for them and the relationships with their customers.",
		Processes: []string{"Service portfolio management", "Service catalogue management", "Financial management", "Demand management", "Business relationship management"}},
	{Key: "design", Path: "/design", Name: "Service Design",
		Summary:   "Designs services that meet their targets: service levels, availability, capacity, continuity, information security and suppliers.",
		Processes: []string{"Service level management", "Availability management", "Capacity management", "IT service continuity management", "Information security management", "Supplier management"}},
	{Key: "transition", Path: "/transition", Name: "Service Transition",
		Summary:   "Brings new and changed services into use safely: change, release and deployment, configuration and assets, and knowledge.",
		Processes: []string{"Change management", "Release and deployment management", "Service asset and configuration management", "Knowledge management"}},
	{Key: "operations", Path: "/operations", Name: "Service Operations",
		Summary:   "Runs the services day to day: incidents, service requests, problems, events and access.",
		Processes: []string{"Incident management", "Request fulfilment", "Problem management", "Event management", "Access management"}},
	{Key: "improvement", Path: "/improvement", Name: "Continual Service Improvement",
		Summary:   "Measures the services and improves them: metrics, assessments and the improvement register.",
		Processes: []string{"Service measurement and reporting", "Service assessment", "Improvement register"}},
}

// home serves GET /: the five lifecycle domains and what each covers.
func (s *site) home(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	s.render(w, r, http.StatusOK, "home", &view{Title: "Service lifecycle", Section: "home", User: p, Data: domains})
	return nil
}

// domainPage serves a lifecycle domain's page. No process of any domain is
// built yet, and the page says so plainly rather than showing sample screens.
func (s *site) domainPage(d domain) userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		s.render(w, r, http.StatusOK, "domain", &view{Title: d.Name, Section: d.Key, User: p, Data: d})
		return nil
	}
}
