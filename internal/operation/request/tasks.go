package request

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// Task returns a request task with its request.
func (s *Service) Task(ctx context.Context, number string) (out RequestTask, err error) {
	defer errs.Wrap(&err, "read task %s", number)
	r, err := s.getTask(ctx, number)
	if err != nil {
		return out, err
	}
	out, err = scanTask(s.db.QueryRowContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE r.id = ?`, r.ID))
	if err != nil {
		return out, fmt.Errorf("read task: %w", err)
	}
	return out, nil
}

// TaskActions lists the steps of a request task the caller may take now.
func (s *Service) TaskActions(ctx context.Context, number string) ([]record.Action, error) {
	r, err := s.getTask(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.records.Actions(ctx, r.Number)
}

// PerformTask takes a workflow step of a request task (RF3): the guard asks
// for R or A in the task's team. Completing or cancelling the last open task
// of a stage moves its request on.
func (s *Service) PerformTask(ctx context.Context, number, action string, in StepInput) (out RequestStepResult, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	r, err := s.getTask(ctx, number)
	if err != nil {
		return out, err
	}
	if strings.TrimSpace(in.Reason) != "" {
		return out, errs.Field("body.reason", "a task's steps take a comment, not a reason", nil)
	}
	res, err := s.records.Perform(ctx, r.Number, action, record.PerformInput{Version: in.Version, Comment: in.Comment})
	if err != nil {
		return out, err
	}
	out.Outcome, out.Step, out.Consultations = res.Outcome, res.Step, res.Consultations
	t, err := s.Task(ctx, r.Number)
	if err != nil {
		return out, err
	}
	out.Task = &t
	out.Request, err = s.Request(ctx, t.Request)
	return out, err
}

// TaskFilter narrows a listing of request tasks.
type TaskFilter struct {
	TeamID int64
	State  string
	// Open, when set, keeps the open (true) or the finished (false) tasks.
	Open *bool
	// Request keeps one request's tasks.
	Request string
}

// TaskList describes how request tasks are listed and sorted.
var TaskList = listing.Spec{
	Columns: map[string]listing.Column{
		"number":    {SQL: "r.number", Sortable: true, Kind: "text"},
		"createdAt": {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt": {SQL: "r.updated_at", Sortable: true, Kind: "int"},
	},
	DefaultSort: "createdAt",
	IDColumn:    "r.id",
}

var taskSource = listing.Source[RequestTask]{
	Spec: TaskList, From: `records r JOIN request_tasks t ON t.record_id = r.id JOIN records q ON q.id = t.request_id
	LEFT JOIN teams tm ON tm.id = r.team_id LEFT JOIN users u ON u.id = r.assignee_id`,
	Columns: taskCols,
	Scan:    func(r listing.Scanner) (RequestTask, error) { return scanTask(r) },
	Key: func(t RequestTask, field string) any {
		switch field {
		case "number":
			return t.Number
		case "updatedAt":
			return t.UpdatedAt.UnixMilli()
		}
		return t.CreatedAt.UnixMilli()
	},
	ID: func(t RequestTask) int64 { return t.ID },
}

// Tasks lists request tasks, a team's queue say, oldest first unless p sorts otherwise.
func (s *Service) Tasks(ctx context.Context, f TaskFilter, p listing.Params) (page listing.Page[RequestTask], total int64, err error) {
	defer errs.Wrap(&err, "list request tasks")
	page.Items = []RequestTask{}
	if _, err := caller(ctx); err != nil {
		return page, 0, err
	}
	if err := s.checkState(TaskType, f.State); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	add := func(cond string, args ...any) { lf = append(lf, listing.Filter{Where: cond, Args: args}) }
	if f.TeamID != 0 {
		add("r.team_id = ?", f.TeamID)
	}
	if f.State != "" {
		add("r.state = ?", f.State)
	}
	if f.Open != nil {
		add("r.closed = ?", !*f.Open)
	}
	if f.Request != "" {
		add("q.number = ?", record.NormalizeNumber(f.Request))
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, taskSource, p, lf)
}
