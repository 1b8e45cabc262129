package web

import "net/http"

// registerServiceLevels adds the routes of the service level and availability
// pages whose services are wired.
func (s *site) registerServiceLevels(mux *http.ServeMux) {
	if s.Calendars != nil {
		mux.Handle("GET /calendars", s.signedIn(s.calendarList))
		mux.Handle("GET /calendars/new", s.signedIn(s.newCalendarForm))
		mux.Handle("POST /calendars/new", s.signedIn(s.calendarPost))
		mux.Handle("GET /calendars/{id}", s.signedIn(s.calendarEditForm))
		mux.Handle("POST /calendars/{id}", s.signedIn(s.calendarPost))
		mux.Handle("POST /calendars/{id}/delete", s.signedIn(s.calendarDelete))
	}
	if s.Levels != nil {
		mux.Handle("GET /sla", s.signedIn(s.slaHome))
		mux.Handle("GET /sla/services/{id}", s.signedIn(s.slaService))
		mux.Handle("GET /agreements", s.signedIn(s.agreementList))
		mux.Handle("GET /agreements/{number}", s.signedIn(s.agreementPage))
		mux.Handle("POST /agreements/{number}/actions/{action}", s.signedIn(s.agreementStep))
	}
	if s.Availability != nil {
		mux.Handle("GET /availability", s.signedIn(s.availabilityHome))
		mux.Handle("GET /availability/services/{id}", s.signedIn(s.availabilityPage))
	}
}
