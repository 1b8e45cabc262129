package record

import (
	"context"
	"errors"
	"slices"
	"strings"

	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// MaxBulk is the most records one bulk change may name.
const MaxBulk = 200

// BulkInput is one change made to several records from a list: assign them,
// take a workflow action, or add a work note or comment. Each record changes
// in its own transaction, with its own guard decision, audit entries and
// events, so one refusal does not undo the others; Versions, when given for a
// number, makes that record's change conditional like an If-Match.
type BulkInput struct {
	Numbers  []string         `json:"numbers" minItems:"1" maxItems:"200"`
	Versions map[string]int64 `json:"versions,omitempty" doc:"The version you read, per number; a record that changed since is refused (412)."`
	// Assign, when set, gives every record to the team and person (0 clears either).
	Assign *BulkAssign `json:"assign,omitempty"`
	// Action, when set, is the workflow action taken on every record (after the assignment).
	Action string `json:"action,omitempty" maxLength:"40"`
	// Note, when set, is journalled on every record (with the action, as its comment).
	Note string `json:"note,omitempty" maxLength:"32000"`
	// NoteKind is work_note (the default) or comment, for a note without an action.
	NoteKind JournalKind `json:"noteKind,omitempty" enum:"work_note,comment"`
}

// BulkAssign is the assignment of a bulk change.
type BulkAssign struct {
	TeamID     int64 `json:"teamId" minimum:"0"`
	AssigneeID int64 `json:"assigneeId" minimum:"0"`
}

// BulkResult is what became of one record of a bulk change.
type BulkResult struct {
	Number string `json:"number"`
	// Status is the HTTP status the change alone would have had: 200, or the error's (403, 409, 412…).
	Status int `json:"status"`
	// Error says why the record was not changed; empty on success.
	Error   string `json:"error,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Version int64  `json:"version,omitempty"`
}

// Bulk applies one change to each named record in turn and reports each one.
// The input itself is checked first: a bad input changes nothing.
func (s *Service) Bulk(ctx context.Context, in BulkInput) (out []BulkResult, err error) {
	defer errs.Wrap(&err, "bulk change")
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	var fe []errs.FieldError
	if len(in.Numbers) == 0 || len(in.Numbers) > MaxBulk {
		fe = append(fe, errs.FieldError{Location: "body.numbers", Message: "name 1 to 200 records", Value: len(in.Numbers)})
	}
	seen := map[string]bool{}
	numbers := make([]string, 0, len(in.Numbers))
	for _, n := range in.Numbers {
		n = NormalizeNumber(n)
		if !seen[n] {
			seen[n] = true
			numbers = append(numbers, n)
		}
	}
	if in.Assign == nil && in.Action == "" && strings.TrimSpace(in.Note) == "" {
		fe = append(fe, errs.FieldError{Location: "body", Message: "name an assignment, an action or a note"})
	}
	if in.NoteKind == "" {
		in.NoteKind = WorkNote
	}
	if !slices.Contains([]JournalKind{WorkNote, Comment}, in.NoteKind) {
		fe = append(fe, errs.FieldError{Location: "body.noteKind", Message: "work_note or comment", Value: in.NoteKind})
	}
	if err := errs.WithFields(fe); err != nil {
		return nil, err
	}
	out = make([]BulkResult, 0, len(numbers))
	for _, n := range numbers {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out = append(out, s.bulkOne(ctx, n, in))
	}
	return out, nil
}

// bulkOne changes one record of a bulk change.
func (s *Service) bulkOne(ctx context.Context, number string, in BulkInput) BulkResult {
	res := BulkResult{Number: number, Status: 200}
	fail := func(err error) BulkResult {
		res.Status, res.Error = httpx.Status(errs.KindOf(err)), publicMessage(err)
		return res
	}
	version := in.Versions[number]
	if in.Assign != nil {
		r, err := s.Assign(ctx, number, in.Assign.TeamID, in.Assign.AssigneeID, version)
		if err != nil {
			return fail(err)
		}
		res.Version, version = r.Version, r.Version
	}
	switch {
	case in.Action != "":
		r, err := s.Perform(ctx, number, in.Action, PerformInput{Version: version, Comment: in.Note})
		if err != nil {
			return fail(err)
		}
		res.Outcome, res.Version = string(r.Outcome), r.Record.Version
	case strings.TrimSpace(in.Note) != "":
		if version != 0 {
			r, err := s.Get(ctx, number)
			if err != nil {
				return fail(err)
			}
			if err := checkVersion(&r, version); err != nil {
				return fail(err)
			}
		}
		if _, err := s.AddJournal(ctx, number, in.NoteKind, in.Note); err != nil {
			return fail(err)
		}
		r, err := s.Get(ctx, number)
		if err != nil {
			return fail(err)
		}
		res.Version = r.Version
	}
	return res
}

// publicMessage is an error's message for callers: a kernel error's own
// message, never an internal one.
func publicMessage(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		return e.Message
	}
	return "the change failed; see the server log"
}
