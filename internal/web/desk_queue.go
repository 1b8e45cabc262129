package web

import (
	"context"
	"slices"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// queueResult is one page of a queue.
type queueResult struct {
	rows  []queueRow
	total int64
	// next is the cursor of the next page, or "".
	next string
	// notes say how the queue was narrowed.
	notes []string
	// teams are the team filter's choices.
	teams []option
	// breaching are the rows of the breaching-soon queue.
	breaching []breachRow
}

// queueSort is the desk's order: the highest priority first, then the oldest.
const queueSort = "priority,createdAt"

// incidentOnly reports whether the query needs the incident queue: the
// unassigned and major queues and the priority and service filters are
// incident fields.
func incidentOnly(q *deskQuery) bool {
	return q.Queue == queueUnassigned || q.Queue == queueMajor || q.Priority != 0 || q.Service != 0
}

// queue reads one page of the desk queue q asks for. It may narrow q (the team
// of "my teams", the type a filter needs) and says so in the notes.
func (s *site) queue(ctx context.Context, p *auth.Principal, q *deskQuery) (res queueResult, err error) {
	mine, err := s.myTeams(ctx, p.UserID)
	if err != nil {
		return res, err
	}
	if q.Queue == queueTeams {
		res.teams = teamOptions(mine, q.Team, "")
		switch {
		case len(mine) == 0:
			res.notes = append(res.notes, "You are in no team, so this queue is empty. An administrator adds people to teams.")
			return res, nil
		case q.Team == 0:
			q.Team = mine[0].ID
			res.teams = teamOptions(mine, q.Team, "")
			if len(mine) > 1 {
				res.notes = append(res.notes, "Showing "+mine[0].Name+": pick another of your teams under Team.")
			}
		case !slices.ContainsFunc(mine, func(t auth.Team) bool { return t.ID == q.Team }):
			return res, errs.Field("query.team", "pick one of your teams", q.Team)
		}
	} else {
		all, err := s.allTeams(ctx)
		if err != nil {
			return res, err
		}
		res.teams = teamOptions(all, q.Team, "Any team")
	}
	if q.Queue == queueBreaching {
		return s.breachingQueue(ctx, q, res)
	}
	if incidentOnly(q) && q.Type != "incident" {
		if q.Type != allTypes {
			res.notes = append(res.notes, "The unassigned and major queues and the priority and service filters list incidents only.")
		}
		q.Type = "incident"
	}
	if s.hasIncidents() && q.Type == "incident" {
		return s.incidentQueue(ctx, p, q, res)
	}
	if incidentOnly(q) {
		res.notes = append(res.notes, "This queue needs incident management, which is not set up on this server.")
		return res, nil
	}
	return s.kernelQueue(ctx, p, q, res)
}

// teamOptions are the team filter's choices; any, when not empty, is the label of "no filter".
func teamOptions(teams []auth.Team, selected int64, any string) []option {
	var out []option
	if any != "" {
		out = append(out, option{Value: "", Label: any, Selected: selected == 0})
	}
	for _, t := range teams {
		out = append(out, option{Value: itoa(t.ID), Label: t.Name, Selected: t.ID == selected})
	}
	return out
}

// kernelQueue reads a queue through the kernel's record search: mine and my
// teams, filtered by type, state and team. It costs a fixed number of queries.
func (s *site) kernelQueue(ctx context.Context, p *auth.Principal, q *deskQuery, res queueResult) (queueResult, error) {
	open := true
	f := record.Filter{Type: q.Type, State: q.State, TeamID: q.Team, Open: &open}
	if f.Type == allTypes {
		f.Type = ""
	}
	if q.Queue == queueMine {
		f.AssigneeID = p.UserID
	}
	page, total, err := s.Records.Search(ctx, f, listing.Params{Limit: deskPageSize, Cursor: q.Cursor, Sort: queueSort})
	if err != nil {
		return res, err
	}
	rows, err := s.recordRows(ctx, page.Items)
	if err != nil {
		return res, err
	}
	res.rows, res.total, res.next = rows, total, page.NextCursor
	return res, nil
}
