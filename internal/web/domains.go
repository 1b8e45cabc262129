package web

import (
	"net/http"

	"steward/internal/platform/auth"
)

// domain is one of the five DESMF service lifecycle domains.
type domain struct {
	Key, Path, Name string
	// Code is the domain's code in the reference model: SS, SD, ST, SO or CSI.
	Code string
	// Summary says in one line what the domain covers.
	Summary string
}

// domains are the DESMF service lifecycle domains, in lifecycle order.
var domains = []domain{
	{Key: "strategy", Path: "/strategy", Name: "Service Strategy", Code: "SS",
		Summary: "Decides which services to offer and why: the portfolio, the catalogue, their funding, the demand for them and the relationships with their customers."},
	{Key: "design", Path: "/design", Name: "Service Design", Code: "SD",
		Summary: "Designs services that meet their targets: service levels, availability, capacity, continuity, information security and suppliers."},
	{Key: "transition", Path: "/transition", Name: "Service Transition", Code: "ST",
		Summary: "Brings new and changed services into use safely: change, release and deployment, configuration and assets, and knowledge."},
	{Key: "operations", Path: "/operations", Name: "Service Operations", Code: "SO",
		Summary: "Runs the services day to day: incidents, service requests, problems, events and access."},
	{Key: "improvement", Path: "/improvement", Name: "Continual Service Improvement", Code: "CSI",
		Summary: "Measures the services and improves them: metrics, assessments and the improvement register."},
}

// domainByCode returns the web domain of a reference-model domain code.
func domainByCode(code string) (domain, bool) {
	for _, d := range domains {
		if d.Code == code {
			return d, true
		}
	}
	return domain{}, false
}

// home serves GET /: the five lifecycle domains and what each covers.
func (s *site) home(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	s.render(w, r, http.StatusOK, "home", &view{Title: "Service lifecycle", Section: "home", User: p, Data: domains})
	return nil
}

// domainData is the content of a lifecycle domain's page.
type domainData struct {
	domain
	// Processes are the domain's processes, each with its TAXUD sub-processes.
	Processes []processItem
	// WithRecords counts the processes that have record types of their own.
	WithRecords int
	// ControlTypes names the record types whose records may belong to any process.
	ControlTypes []string
}

// domainPage serves a lifecycle domain's page: its processes from the
// reference model, each linking to its page. It says plainly which processes
// have no records or workflows in Steward yet.
func (s *site) domainPage(d domain) userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		items, err := s.processItems(r.Context(), d.Code)
		if err != nil {
			return err
		}
		kinds, err := s.recordKinds(r.Context())
		if err != nil {
			return err
		}
		data := domainData{domain: d, Processes: items, ControlTypes: kinds.AnyProcess}
		for _, it := range items {
			if len(it.RecordTypes) > 0 {
				data.WithRecords++
			}
		}
		s.render(w, r, http.StatusOK, "domain", &view{Title: d.Name, Section: d.Key, User: p, Data: data})
		return nil
	}
}
