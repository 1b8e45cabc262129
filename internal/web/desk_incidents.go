package web

import (
	"context"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/platform/auth"
	"steward/internal/platform/listing"
)

// hasIncidents reports whether incident management is wired.
func (s *site) hasIncidents() bool { return s.Incidents != nil }

// incidentQueue reads a queue of incidents through the incident queue's read
// model, which joins the caller's, team's, assignee's and service's names and
// leaves out the security incidents the user may not see, in two queries.
func (s *site) incidentQueue(ctx context.Context, p *auth.Principal, q *deskQuery, res queueResult) (queueResult, error) {
	open := true
	f := incident.QueueFilter{TeamID: q.Team, State: q.State, Open: &open, Priority: q.Priority, ServiceID: q.Service}
	switch q.Queue {
	case queueMine:
		f.AssigneeID = p.UserID
	case queueUnassigned:
		f.Unassigned = true
	case queueMajor:
		f.Path = incident.PathMajor
	}
	page, total, err := s.Incidents.Queue(ctx, f, listing.Params{Limit: deskPageSize, Cursor: q.Cursor, Sort: queueSort})
	if err != nil {
		return res, err
	}
	res.total, res.next = total, page.NextCursor
	res.rows = incidentRows(s, page.Items)
	return res, nil
}

// incidentRows turns incidents, which carry their names, into queue rows.
func incidentRows(s *site, items []incident.Incident) []queueRow {
	t, _ := s.Records.Type(incident.Type)
	now := time.Now()
	rows := make([]queueRow, 0, len(items))
	for _, in := range items {
		row := queueRow{Number: in.Number, Title: in.Title, Type: in.Type, TypeLabel: t.Label, State: in.State, StateLabel: in.State,
			Closed: in.Closed, Priority: in.Priority, Caller: in.CallerName, Service: in.ServiceName, Team: in.TeamName,
			Assignee: in.AssigneeName, CallerID: in.RequesterID, ServiceID: in.ServiceID, AssigneeID: in.AssigneeID, TeamID: in.TeamID,
			CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, Version: in.Version, Major: in.Path == incident.PathMajor,
			Age: age(now, in.CreatedAt)}
		if st, ok := t.State(in.State); ok {
			row.StateLabel = st.Label
		}
		rows = append(rows, row)
	}
	return rows
}
