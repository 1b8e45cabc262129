package request

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// get reads a request's record; a record of another type is not found.
func (s *Service) get(ctx context.Context, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != RequestType {
		return r, errs.E(errs.NotFound, "no service request %s", record.NormalizeNumber(number))
	}
	return r, nil
}

// getTask reads a request task's record; a record of another type is not found.
func (s *Service) getTask(ctx context.Context, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != TaskType {
		return r, errs.E(errs.NotFound, "no request task %s", record.NormalizeNumber(number))
	}
	return r, nil
}

// itemFor reads the catalog item a request names, as a field error when it is missing or withdrawn.
func itemFor(ctx context.Context, q db.Queryer, id int64) (CatalogItem, error) {
	if id <= 0 {
		return CatalogItem{}, errs.Field("body.catalogItemId", "name the catalog item requested", id)
	}
	it, err := loadItem(ctx, q, id)
	if errs.Is(err, errs.NotFound) {
		return it, errs.Field("body.catalogItemId", "no such catalog item", id)
	}
	if err != nil {
		return it, err
	}
	if !it.Active {
		return it, errs.Field("body.catalogItemId", "the item is no longer offered", id)
	}
	return it, nil
}

// Submit logs a service request for a catalog item (RF2): the caller's own,
// which any signed-in user may submit, or another user's, which takes R or A
// for RF2 in the item's service. The values must fit the item's form. The
// request starts as submitted, keeping the item's form, approvals and tasks as
// they are now, and waits for validation.
func (s *Service) Submit(ctx context.Context, in NewRequest) (out Request, err error) {
	defer errs.Wrap(&err, "submit a request")
	p, err := caller(ctx)
	if err != nil {
		return out, err
	}
	channel, err := validateChannel(in.Channel)
	if err != nil {
		return out, err
	}
	item, err := itemFor(ctx, s.db, in.CatalogItemID)
	if err != nil {
		return out, err
	}
	requester := in.RequesterID
	if requester == 0 {
		requester = p.UserID
	}
	if requester != p.UserID {
		if _, err := s.records.Authorize(ctx, Process, ActLog, "log a request on behalf of", "user/"+strconv.FormatInt(requester, 10),
			raci.Scope{ServiceID: item.ServiceID}); err != nil {
			return out, err
		}
		if err := checkRequester(ctx, s.db, requester); err != nil {
			return out, err
		}
	}
	values, refs, err := CheckValues(item.Variables, in.Variables)
	if err != nil {
		return out, err
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = item.Name
	}
	row := requestRow{ItemID: item.ID, Def: definition{ItemName: item.Name, Form: item.Form}, Values: values, Channel: channel,
		TargetHours: item.TargetHours}
	r, err := s.records.Create(ctx, RequestType, record.NewRecord{Title: title, Description: in.Description, RequesterID: requester,
		ServiceID: item.ServiceID, With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			if err := checkRefs(ctx, tx, refs); err != nil {
				return nil, err
			}
			return s.storeRequest(ctx, tx, r, row, p)
		}})
	if err != nil {
		return out, err
	}
	return s.Request(ctx, r.Number)
}

// storeRequest writes a new request's own row and announces it (request.submitted).
func (s *Service) storeRequest(ctx context.Context, tx *db.Tx, r record.Record, row requestRow, p *auth.Principal) ([]audit.Change, error) {
	row.RecordID = r.ID
	if err := insertRequest(ctx, tx, row); err != nil {
		return nil, err
	}
	var by int64
	if p != nil {
		by = p.UserID
	}
	if err := s.emit(ctx, tx, "request.submitted", r, map[string]any{"catalogItemId": row.ItemID, "catalogItemName": row.Def.ItemName,
		"submittedBy": by, "channel": row.Channel, "sourceIncident": row.SourceIncident}); err != nil {
		return nil, err
	}
	changes := []audit.Change{{Field: "catalogItemId", New: row.ItemID}, {Field: "variables", New: row.Values},
		{Field: "channel", New: row.Channel}}
	if row.SourceIncident != "" {
		changes = append(changes, audit.Change{Field: "sourceIncident", New: row.SourceIncident})
	}
	return changes, nil
}

// OpenFromIncident creates the service request an incident is reclassified
// as (IM3), inside the incident's transaction, and returns its number. The
// incident area has authorised the reclassification, so no RF guard is asked;
// the requester is the incident's caller. With a catalog item the request keeps
// the item's form, approvals and tasks (its values stay empty: the caller never
// filled the form), and belongs to the item's service; without one it belongs
// to the incident's service and needs no approval. It waits for validation (RF2).
func (s *Service) OpenFromIncident(ctx context.Context, tx *db.Tx, in FromIncident) (number string, err error) {
	defer errs.Wrap(&err, "open a request from %s", in.Number)
	row := requestRow{Channel: "desk", SourceIncident: record.NormalizeNumber(in.Number), Values: map[string]any{},
		Def: definition{Form: Form{}.nonNil()}}
	service := in.ServiceID
	title := strings.TrimSpace(in.Title)
	if in.CatalogItemID != 0 {
		item, err := itemFor(ctx, tx, in.CatalogItemID)
		if err != nil {
			return "", err
		}
		row.ItemID, row.Def, row.TargetHours, service = item.ID, definition{ItemName: item.Name, Form: item.Form}, item.TargetHours, item.ServiceID
		if title == "" {
			title = item.Name
		}
	}
	if title == "" {
		title = "Request from " + row.SourceIncident
	}
	r, err := s.records.CreateIn(ctx, tx, RequestType, record.NewRecord{Title: title, Description: in.Description,
		RequesterID: in.RequesterID, ServiceID: service, With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			return s.storeRequest(ctx, tx, r, row, auth.PrincipalFrom(ctx))
		}})
	if err != nil {
		return "", err
	}
	return r.Number, nil
}

// Request returns a service request with the names it points to, its form's
// values, its approvals level by level and its fulfilment tasks stage by stage.
func (s *Service) Request(ctx context.Context, number string) (out Request, err error) {
	defer errs.Wrap(&err, "read request %s", number)
	r, err := s.get(ctx, number)
	if err != nil {
		return out, err
	}
	var fulfilled int64
	var def, vals string
	sum, err := scanSummary(s.db.QueryRowContext(ctx, `SELECT `+summaryCols+`, q.source_incident, q.target_hours, q.rejection_reason,
		q.fulfilled_at, q.definition, q.variables`+summaryFrom+` WHERE r.id = ?`, r.ID),
		&out.SourceIncident, &out.TargetHours, &out.RejectionReason, &fulfilled, &def, &vals)
	if err != nil {
		return out, fmt.Errorf("read request: %w", err)
	}
	out.RequestSummary, out.FulfilledAt = sum, db.Time(fulfilled)
	row := requestRow{RecordID: r.ID}
	if row.Def, row.Values, err = decodeRow(r.ID, def, vals); err != nil {
		return out, err
	}
	if out.Variables, err = s.values(ctx, row); err != nil {
		return out, err
	}
	approvals, err := loadApprovals(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	out.Approvals = groupLevels(approvals)
	opened, err := loadStageTasks(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	teams := map[int64]string{}
	for _, o := range opened {
		teams[o.task.TeamID] = o.task.TeamName
	}
	out.Stages, err = s.stagesOf(ctx, row.Def.Form, opened, teams)
	return out, err
}

// values lists a request's form values in the form's order, naming the users and CIs they point to.
func (s *Service) values(ctx context.Context, row requestRow) ([]VariableValue, error) {
	var users, cis []int64
	for _, v := range row.Def.Variables {
		if n, ok := row.Values[v.Name].(float64); ok {
			switch v.Type {
			case UserRef:
				users = append(users, int64(n))
			case CIRef:
				cis = append(cis, int64(n))
			}
		}
	}
	un, cn, err := names(ctx, s.db, users, cis)
	if err != nil {
		return nil, err
	}
	out := []VariableValue{}
	for _, v := range row.Def.Variables {
		val, ok := row.Values[v.Name]
		if !ok {
			continue
		}
		vv := VariableValue{Name: v.Name, Label: v.Label, Type: v.Type, Value: val}
		switch x := val.(type) {
		case string:
			vv.Display = x
		case float64:
			vv.Display = formatNumber(x)
			switch v.Type {
			case UserRef:
				vv.Value, vv.Display = int64(x), un[int64(x)]
			case CIRef:
				vv.Value, vv.Display = int64(x), cn[int64(x)]
			}
		}
		out = append(out, vv)
	}
	return out, nil
}

// groupLevels groups a request's approvals by level, each with the level's state.
func groupLevels(as []RequestApproval) []RequestApprovalLevel {
	out := []RequestApprovalLevel{}
	for _, a := range as {
		if len(out) == 0 || out[len(out)-1].Level != a.Level {
			out = append(out, RequestApprovalLevel{Level: a.Level, Kind: a.Kind})
		}
		l := &out[len(out)-1]
		l.Approvals = append(l.Approvals, a)
	}
	for i := range out {
		out[i].State = levelState(out[i].Approvals)
	}
	return out
}

// levelState is a level's state: decided (approved or rejected) by its first decision, else pending, waiting or cancelled.
func levelState(as []RequestApproval) ApprovalState {
	seen := map[ApprovalState]bool{}
	for _, a := range as {
		seen[a.State] = true
	}
	for _, st := range []ApprovalState{ApprovalRejected, ApprovalApproved, ApprovalPending, ApprovalWaiting} {
		if seen[st] {
			return st
		}
	}
	return ApprovalCancelled
}

// stagesOf lays a request's form tasks out by stage, with the tasks opened for them.
func (s *Service) stagesOf(ctx context.Context, fm Form, opened []stageTaskRow, teams map[int64]string) ([]FulfilmentStage, error) {
	var missing []int64
	for _, t := range fm.Tasks {
		if _, ok := teams[t.TeamID]; !ok {
			missing = append(missing, t.TeamID)
			teams[t.TeamID] = ""
		}
	}
	if len(missing) > 0 {
		more, err := idStates(ctx, s.db, `SELECT id, name FROM teams WHERE id IN `, missing)
		if err != nil {
			return nil, err
		}
		for id, n := range more {
			teams[id] = n
		}
	}
	byPos := map[int]FulfilmentTask{}
	for _, o := range opened {
		byPos[o.position] = o.task
	}
	out := []FulfilmentStage{}
	for _, stage := range fm.stages() {
		st := FulfilmentStage{Stage: stage, State: StageNotStarted, Tasks: []FulfilmentTask{}}
		done := 0
		for _, pos := range fm.stageTasks(stage) {
			def := fm.Tasks[pos]
			t, ok := byPos[pos]
			if !ok {
				t = FulfilmentTask{Name: def.Name, TeamID: def.TeamID, TeamName: teams[def.TeamID]}
			} else {
				st.State = StageInProgress
				if t.State == TaskDone || t.State == TaskCancelled {
					done++
				}
			}
			st.Tasks = append(st.Tasks, t)
		}
		if st.State == StageInProgress && done == len(st.Tasks) {
			st.State = StageDone
		}
		out = append(out, st)
	}
	return out, nil
}

// Filter narrows a listing of requests.
type Filter struct {
	RequesterID int64
	// TeamID keeps the requests assigned to the team or with a task routed to it.
	TeamID        int64
	CatalogItemID int64
	State         string
	// Open, when set, keeps the open (true) or the closed (false) requests.
	Open *bool
}

// List describes how requests are listed and sorted.
var List = listing.Spec{
	Columns: map[string]listing.Column{
		"number":    {SQL: "r.number", Sortable: true, Kind: "text"},
		"state":     {SQL: "r.state", Sortable: true, Kind: "text"},
		"createdAt": {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt": {SQL: "r.updated_at", Sortable: true, Kind: "int"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "r.id",
}

// checkState refuses a state filter that is not a state of typ.
func (s *Service) checkState(typ, state string) error {
	if state == "" {
		return nil
	}
	t, err := s.records.Type(typ)
	if err != nil {
		return err
	}
	if _, ok := t.State(state); ok {
		return nil
	}
	names := make([]string, len(t.States))
	for i, st := range t.States {
		names[i] = st.Name
	}
	return errs.Field("query.state", "one of "+strings.Join(names, ", "), state)
}

// Requests lists the requests matching f, newest first unless p sorts
// otherwise, with the total count of matches: one count and one page query.
func (s *Service) Requests(ctx context.Context, f Filter, p listing.Params) (page listing.Page[RequestSummary], total int64, err error) {
	defer errs.Wrap(&err, "list requests")
	page.Items = []RequestSummary{}
	if _, err := caller(ctx); err != nil {
		return page, 0, err
	}
	if err := s.checkState(RequestType, f.State); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	add := func(cond string, args ...any) { lf = append(lf, listing.Filter{Where: cond, Args: args}) }
	if f.RequesterID != 0 {
		add("r.requester_id = ?", f.RequesterID)
	}
	if f.TeamID != 0 {
		add(`r.team_id = ? OR EXISTS (SELECT 1 FROM request_tasks t JOIN records tr ON tr.id = t.record_id
			WHERE t.request_id = r.id AND tr.team_id = ?)`, f.TeamID, f.TeamID)
	}
	if f.CatalogItemID != 0 {
		add("q.catalog_item_id = ?", f.CatalogItemID)
	}
	if f.State != "" {
		add("r.state = ?", f.State)
	}
	if f.Open != nil {
		add("r.closed = ?", !*f.Open)
	}
	p.Fields = ""
	lq, err := List.Build(p, lf)
	if err != nil {
		return page, 0, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records r JOIN service_requests q ON q.record_id = r.id`+lq.Where,
		lq.Args...).Scan(&total); err != nil {
		return page, 0, fmt.Errorf("count requests: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryCols+summaryFrom+lq.Where+lq.Page, append(lq.Args, lq.PageArgs...)...)
	if err != nil {
		return page, 0, fmt.Errorf("list requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sm, err := scanSummary(rows)
		if err != nil {
			return page, 0, fmt.Errorf("list requests: %w", err)
		}
		page.Items = append(page.Items, sm)
	}
	if err := rows.Err(); err != nil {
		return page, 0, err
	}
	if len(page.Items) > lq.Limit {
		page.Items = page.Items[:lq.Limit]
		last := page.Items[lq.Limit-1]
		var vals []any
		for _, field := range lq.SortValues() {
			switch field {
			case "number":
				vals = append(vals, last.Number)
			case "state":
				vals = append(vals, last.State)
			case "createdAt":
				vals = append(vals, last.CreatedAt.UnixMilli())
			case "updatedAt":
				vals = append(vals, last.UpdatedAt.UnixMilli())
			}
		}
		page.NextCursor = lq.NextCursor(vals, last.ID)
	}
	return page, total, nil
}

// MyRequests lists the caller's own requests, newest first unless p sorts otherwise.
func (s *Service) MyRequests(ctx context.Context, p listing.Params) (listing.Page[RequestSummary], int64, error) {
	pr, err := caller(ctx)
	if err != nil {
		return listing.Page[RequestSummary]{Items: []RequestSummary{}}, 0, err
	}
	return s.Requests(ctx, Filter{RequesterID: pr.UserID}, p)
}

// StepInput is what a caller sends with a workflow step of a request or a task.
type StepInput struct {
	// Version is the record version the caller read (the If-Match ETag).
	Version int64
	// Comment is kept as a work note with the step.
	Comment string
	// Reason is required by reject and not_done: the requester reads it.
	Reason string
}

// Actions lists the steps of a request the caller may take now, with their activities.
func (s *Service) Actions(ctx context.Context, number string) ([]record.Action, error) {
	r, err := s.get(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.records.Actions(ctx, r.Number)
}

// Perform takes a workflow step of a request through the kernel, whose RACI
// guard decides (the requester may accept, report not done or cancel their
// own). reject and not_done need a reason, which reaches the requester.
func (s *Service) Perform(ctx context.Context, number, action string, in StepInput) (out RequestStepResult, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	r, err := s.get(ctx, number)
	if err != nil {
		return out, err
	}
	switch action {
	case ActionReject, ActionNotDone:
		if err := validateReason("body.reason", in.Reason); err != nil {
			return out, err
		}
		ctx = withReason(ctx, r.Number, action, in.Reason)
	default:
		if strings.TrimSpace(in.Reason) != "" {
			return out, errs.Field("body.reason", "only reject and not_done take a reason; write a comment instead", nil)
		}
	}
	res, err := s.records.Perform(ctx, r.Number, action, record.PerformInput{Version: in.Version, Comment: in.Comment})
	if err != nil {
		return out, err
	}
	out.Outcome, out.Step, out.Consultations = res.Outcome, res.Step, res.Consultations
	out.Request, err = s.Request(ctx, r.Number)
	return out, err
}
