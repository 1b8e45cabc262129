package request

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// startFulfilment opens the first stage's tasks of a request that starts fulfilment.
func (s *Service) startFulfilment(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	r := a.Record
	row, err := loadRequestRow(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if err := setRequest(ctx, tx, r.ID, "approval_level", 0); err != nil {
		return err
	}
	first := row.Def.nextStage(0)
	if err := s.emit(ctx, tx, "request.fulfilment_started", r, map[string]any{"stages": len(row.Def.stages())}); err != nil {
		return err
	}
	if first == 0 {
		_, err := addJournal(ctx, tx, r.ID, record.System, "The item names no fulfilment tasks: mark the request fulfilled once it is done.",
			a.Actor, s.now())
		return err
	}
	return s.startStage(ctx, tx, r, row, first, a.Actor)
}

// startStage opens a request task for every task of a stage, routed to its
// team and linked to the request (parent_of), and records the stage as under way.
func (s *Service) startStage(ctx context.Context, tx *db.Tx, r record.Record, row requestRow, stage int, p *auth.Principal) error {
	positions := row.Def.stageTasks(stage)
	var teams []int64
	for _, pos := range positions {
		teams = append(teams, row.Def.Tasks[pos].TeamID)
	}
	known, err := idStates(ctx, tx, `SELECT id, name FROM teams WHERE id IN `, teams)
	if err != nil {
		return err
	}
	var opened []map[string]any
	var labels []string
	for _, pos := range positions {
		def := row.Def.Tasks[pos]
		team := def.TeamID
		if _, ok := known[team]; !ok {
			team = 0 // the team was deleted since the item was defined: the task waits unassigned
		}
		desc := strings.TrimSpace(def.Description)
		if desc != "" {
			desc += "\n\n"
		}
		desc += fmt.Sprintf("Fulfils %s: %s", r.Number, r.Title)
		t, err := s.records.CreateIn(ctx, tx, TaskType, record.NewRecord{Title: def.Name, Description: desc, TeamID: team,
			RequesterID: r.RequesterID, ServiceID: r.ServiceID, Marking: r.Marking,
			With: func(ctx context.Context, tx *db.Tx, t record.Record) ([]audit.Change, error) {
				return []audit.Change{{Field: "request", New: r.Number}, {Field: "stage", New: stage}},
					insertTaskRow(ctx, tx, t.ID, r.ID, stage, pos)
			}})
		if err != nil {
			return err
		}
		if auth.PrincipalFrom(ctx) != nil {
			if _, err := s.records.LinkIn(ctx, tx, r.Number, record.ParentOf, t.Number); err != nil {
				return err
			}
		}
		opened = append(opened, map[string]any{"number": t.Number, "teamId": team, "name": def.Name})
		label := t.Number
		if n := known[team]; n != "" {
			label += " (" + n + ")"
		}
		labels = append(labels, label)
	}
	if err := setRequest(ctx, tx, r.ID, "stage", stage); err != nil {
		return err
	}
	stages := row.Def.stages()
	if _, err := addJournal(ctx, tx, r.ID, record.System, fmt.Sprintf("Fulfilment stage %d of %d started: %s.", indexOf(stages, stage)+1,
		len(stages), strings.Join(labels, ", ")), p, s.now()); err != nil {
		return err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "request.stage.start", ObjectType: "record", ObjectID: r.Number,
		Changes: []audit.Change{{Field: "stage", Old: row.Stage, New: stage}, {Field: "tasks", New: opened}}})
	return s.emit(ctx, tx, "request.stage_started", r, map[string]any{"stage": stage, "tasks": opened})
}

func indexOf(vs []int, v int) int {
	for i, x := range vs {
		if x == v {
			return i
		}
	}
	return -1
}

// afterTask moves a request on when the last open task of its stage is done
// or cancelled: the next stage's tasks open, or after the last stage the
// request is fulfilled, as a follow-up of the task's RF3 step. The request's
// row lock serialises tasks of one stage finished at the same moment, so that
// exactly one of them sees the stage complete.
func (s *Service) afterTask(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	if a.Transition.Action != "complete" && a.Transition.Action != "cancel" {
		return nil
	}
	requestID, stage, err := taskParent(ctx, tx, a.Record.ID)
	if err != nil {
		return err
	}
	state, err := lockRecord(ctx, tx, requestID)
	if err != nil || state != InFulfilment {
		return err
	}
	row, err := loadRequestRow(ctx, tx, requestID)
	if err != nil || stage != row.Stage {
		return err
	}
	open, err := openTasks(ctx, tx, requestID, stage)
	if err != nil || len(open) > 0 {
		return err
	}
	r, err := record.Scan(tx.QueryRowContext(ctx, `SELECT `+record.Columns+` FROM records r WHERE r.id = ?`, requestID))
	if err != nil {
		return fmt.Errorf("read the request of %s: %w", a.Record.Number, err)
	}
	if next := row.Def.nextStage(stage); next != 0 {
		return s.startStage(ctx, tx, r, row, next, a.Actor)
	}
	_, err = s.records.FollowUp(ctx, tx, r.Number, ActionFulfil, a)
	return err
}
