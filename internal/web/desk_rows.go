package web

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
)

// queueRow is one record as a queue, the search page or the portal lists it:
// its own fields and the names of the people, team and service on it.
type queueRow struct {
	Number, Title     string
	Type, TypeLabel   string
	State, StateLabel string
	Closed            bool
	// Priority is 1 (P1, highest) to 5, or 0 when not set.
	Priority                        int
	Caller, Service, Team, Assignee string
	CallerID, ServiceID, AssigneeID int64
	TeamID                          int64
	CreatedAt, UpdatedAt            time.Time
	Version                         int64
	// Major marks a major incident.
	Major bool
	// Age is how long the record has been open, such as "3 d" or "45 min".
	Age string
}

// PriorityLabel is the priority as text: "P1" to "P5", or "—".
func (r queueRow) PriorityLabel() string { return priorityLabel(r.Priority) }

// PriorityClass is the badge class of the priority; the text carries the meaning.
func (r queueRow) PriorityClass() string { return priorityClass(r.Priority) }

func priorityLabel(p int) string {
	if p < 1 || p > 5 {
		return "—"
	}
	return fmt.Sprintf("P%d", p)
}

func priorityClass(p int) string {
	if p < 1 || p > 5 {
		return "prio prio-none"
	}
	return fmt.Sprintf("prio prio-%d", p)
}

// priorityNames are the words beside each priority.
var priorityNames = map[int]string{1: "Critical", 2: "High", 3: "Moderate", 4: "Low", 5: "Planning"}

// age says how long ago t was, coarsely: minutes, hours or days.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}

// maxNamedUsers bounds the users one page names (a page has at most 500 rows, two people each).
const maxNamedUsers = 1000

// lookupUsers names the given users in one query; unknown ids are left out.
func (s *site) lookupUsers(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == 0 })
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > maxNamedUsers {
		ids = ids[:maxNamedUsers]
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	where := "id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")"
	page, _, err := s.Auth.ListUsers(ctx, listing.Params{Limit: listing.MaxLimit}, []listing.Filter{{Where: where, Args: args}})
	if err != nil {
		return nil, err
	}
	for _, u := range page.Items {
		out[u.ID] = personName(u)
	}
	return out, nil
}

// personName is how a user appears in lists: the display name, else the username.
func personName(u auth.User) string {
	if strings.TrimSpace(u.DisplayName) != "" {
		return u.DisplayName
	}
	return u.Username
}

// myTeams lists the teams the user is a member of, in one query.
func (s *site) myTeams(ctx context.Context, userID int64) ([]auth.Team, error) {
	page, _, err := s.Auth.ListTeams(ctx, listing.Params{Limit: listing.MaxLimit, Sort: "name"},
		[]listing.Filter{{Where: "id IN (SELECT team_id FROM team_members WHERE user_id = ?)", Args: []any{userID}}})
	return page.Items, err
}

// allServices lists the CMDB services (the first 500 by name) in one query, or none without the CMDB.
func (s *site) allServices(ctx context.Context) ([]cmdb.ServiceCI, error) {
	if s.CMDB == nil {
		return nil, nil
	}
	page, _, err := s.CMDB.ListServices(ctx, cmdb.ServiceFilter{}, listing.Params{Limit: listing.MaxLimit, Sort: "name"})
	return page.Items, err
}

// recordRows turns kernel records into rows, naming people, teams and services
// with three queries in all.
func (s *site) recordRows(ctx context.Context, recs []record.Record) ([]queueRow, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	var ids []int64
	for _, r := range recs {
		ids = append(ids, r.AssigneeID, r.RequesterID)
	}
	users, err := s.lookupUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	teams, err := s.allTeams(ctx)
	if err != nil {
		return nil, err
	}
	teamNames := map[int64]string{}
	for _, t := range teams {
		teamNames[t.ID] = t.Name
	}
	services := map[int64]string{}
	if slices.ContainsFunc(recs, func(r record.Record) bool { return r.ServiceID != 0 }) {
		list, err := s.allServices(ctx)
		if err != nil {
			return nil, err
		}
		for _, sv := range list {
			services[sv.ID] = sv.Name
		}
	}
	now := time.Now()
	rows := make([]queueRow, 0, len(recs))
	for _, r := range recs {
		row := queueRow{Number: r.Number, Title: r.Title, Type: r.Type, State: r.State, StateLabel: r.State, Closed: r.Closed,
			Priority: r.Priority, CallerID: r.RequesterID, ServiceID: r.ServiceID, AssigneeID: r.AssigneeID, TeamID: r.TeamID,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, Age: age(now, r.CreatedAt)}
		row.TypeLabel = r.Type
		if t, err := s.Records.Type(r.Type); err == nil {
			row.TypeLabel = t.Label
			if st, ok := t.State(r.State); ok {
				row.StateLabel = st.Label
			}
		}
		row.Caller, row.Assignee = named(users, r.RequesterID, "user"), named(users, r.AssigneeID, "user")
		row.Team, row.Service = named(teamNames, r.TeamID, "team"), named(services, r.ServiceID, "service")
		rows = append(rows, row)
	}
	return rows, nil
}

// named is id's name in names, "kind N" when it is not there, or "" for id 0.
func named(names map[int64]string, id int64, kind string) string {
	if id == 0 {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	return kind + " " + itoa(id)
}
