package controls

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// Deps are what the controls need.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel the controls are records of; its RACI guard decides every step.
	Records *record.Service
	// Model is the reference model that says which activity of a process is which control.
	Model *framework.Model
	Clock clock.Clock
}

// Service holds the use cases of the common process controls. Each mutation is
// one transaction of the record kernel, with its audit entries and outbox events.
type Service struct {
	db      *db.DB
	records *record.Service
	model   *framework.Model
	clock   clock.Clock
}

// New returns the controls over d and registers their record types with the kernel.
func New(d Deps) (*Service, error) {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, model: d.Model, clock: d.Clock}
	for _, t := range []record.Type{s.documentType(), s.findingType(), s.evaluationType()} {
		if err := d.Records.Register(t); err != nil {
			return nil, fmt.Errorf("register %s: %w", t.Name, err)
		}
	}
	return s, nil
}

// MustNew is New for wiring: it panics when the kernel refuses the record
// types, which only a wiring mistake causes (a type or prefix registered twice).
func MustNew(d Deps) *Service {
	s, err := New(d)
	if err != nil {
		panic("controls: " + err.Error())
	}
	return s
}

// ListFilter narrows a list of control records of a process.
type ListFilter struct {
	// State keeps the records in this state.
	State string
}

// process resolves a process code given by a caller (in any letter case) to
// the model's code, refusing one without the control kind (see ControlActivity).
func (s *Service) process(code string, kind framework.ControlKind) (string, error) {
	code = strings.TrimSpace(code)
	for _, p := range s.model.Processes() {
		if strings.EqualFold(p.Code, code) {
			code = p.Code
			break
		}
	}
	if _, err := ControlActivity(s.model, "path.code", code, kind); err != nil {
		return "", err
	}
	return code, nil
}

// list pages the records of one type and process, newest first by default.
func (s *Service) list(ctx context.Context, typ, code string, kind framework.ControlKind, f ListFilter, p listing.Params) (
	page listing.Page[record.Record], total int64, err error) {
	process, err := s.process(code, kind)
	if err != nil {
		return page, 0, err
	}
	if f.State != "" {
		t, err := s.records.Type(typ)
		if err != nil {
			return page, 0, err
		}
		if _, ok := t.State(f.State); !ok {
			names := make([]string, len(t.States))
			for i, st := range t.States {
				names[i] = st.Name
			}
			return page, 0, errs.Field("query.state", "one of "+strings.Join(names, ", "), f.State)
		}
	}
	p.Fields = ""
	return s.records.Search(ctx, record.Filter{Type: typ, Process: process, State: f.State}, p)
}

// get reads a record of type typ; a record of another type is not found.
func (s *Service) get(ctx context.Context, typ, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != typ {
		return r, errs.E(errs.NotFound, "no %s %s", strings.ReplaceAll(typ, "_", " "), record.NormalizeNumber(number))
	}
	return r, nil
}

func ids(rs []record.Record) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// ---- process framework documents ----

// docFields is the audited view of a document's own fields.
func docFields(r docRow) map[string]any {
	m := map[string]any{"kind": string(r.Kind), "versionNumber": r.VersionNumber, "body": r.Body, "supersedes": r.Supersedes}
	if r.KPI != nil {
		m["kpi"] = *r.KPI
	}
	return m
}

var docAudited = []string{"kind", "versionNumber", "body", "kpi", "supersedes"}

func document(r record.Record, row docRow, l lineage) Document {
	return Document{Record: r, Kind: row.Kind, VersionNumber: row.VersionNumber, Body: row.Body, KPI: row.KPI,
		Supersedes: row.Supersedes, SupersededBy: l.supersededBy, NextVersion: l.next, ApprovedAt: db.Time(row.ApprovedAt)}
}

// documents joins records with their document rows, in the records' order.
func (s *Service) documents(ctx context.Context, rs []record.Record) ([]Document, error) {
	rows, lines, err := loadDocs(ctx, s.db, ids(rs))
	if err != nil {
		return nil, err
	}
	out := make([]Document, 0, len(rs))
	for _, r := range rs {
		row, ok := rows[r.ID]
		if !ok {
			return nil, fmt.Errorf("document %s has no document row", r.Number)
		}
		out = append(out, document(r, row, lines[r.ID]))
	}
	return out, nil
}

// CreateDocument drafts version 1 of a process framework document of a
// process. It performs the process's Establish activity: the caller needs R or A for it.
func (s *Service) CreateDocument(ctx context.Context, code string, in NewDocument) (out Document, err error) {
	defer errs.Wrap(&err, "create a process document of %s", code)
	process, err := s.process(code, framework.ControlEstablish)
	if err != nil {
		return out, err
	}
	if err := validateDocument(in.Kind, in.Body, in.KPI); err != nil {
		return out, err
	}
	row := docRow{Kind: in.Kind, VersionNumber: 1, Body: in.Body, KPI: in.KPI}
	r, err := s.records.Create(ctx, DocumentType, record.NewRecord{Title: in.Title, Description: in.Description,
		Marking: in.Marking, Process: process,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			return audit.Diff(docAudited, map[string]any{}, docFields(row)), insertDoc(ctx, tx, r.ID, row)
		}})
	if err != nil {
		return out, err
	}
	return document(r, row, lineage{}), nil
}

// Documents lists a process's framework documents.
func (s *Service) Documents(ctx context.Context, code string, f ListFilter, p listing.Params) (page listing.Page[Document], total int64, err error) {
	defer errs.Wrap(&err, "list process documents of %s", code)
	rp, total, err := s.list(ctx, DocumentType, code, framework.ControlEstablish, f, p)
	if err != nil {
		return page, 0, err
	}
	page.NextCursor = rp.NextCursor
	page.Items, err = s.documents(ctx, rp.Items)
	return page, total, err
}

// Document returns a process framework document by its number.
func (s *Service) Document(ctx context.Context, number string) (out Document, err error) {
	defer errs.Wrap(&err, "read process document %s", number)
	r, err := s.get(ctx, DocumentType, number)
	if err != nil {
		return out, err
	}
	ds, err := s.documents(ctx, []record.Record{r})
	if err != nil {
		return out, err
	}
	return ds[0], nil
}

// UpdateDocument changes a draft document (an approved one changes through a
// new version). It needs R or A for the process's Establish activity.
func (s *Service) UpdateDocument(ctx context.Context, number string, version int64, u DocumentUpdate) (out Document, err error) {
	defer errs.Wrap(&err, "update process document %s", number)
	if _, err := s.get(ctx, DocumentType, number); err != nil {
		return out, err
	}
	_, err = s.records.Amend(ctx, number, record.Amendment{Version: version,
		Fields: record.Update{Title: u.Title, Description: u.Description, Marking: u.Marking},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			row, err := loadDocRow(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			n := row
			if u.Body != nil {
				n.Body = *u.Body
			}
			if u.KPI != nil {
				n.KPI = u.KPI
			}
			if err := validateDocument(n.Kind, n.Body, n.KPI); err != nil {
				return nil, err
			}
			changes := audit.Diff(docAudited, docFields(row), docFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, updateDoc(ctx, tx, cur.ID, n)
		}})
	if err != nil {
		return out, err
	}
	return s.Document(ctx, number)
}

// NewVersion drafts the next version of an approved document: a new record of
// the same process and kind, numbered version+1, that supersedes the approved
// version when it is itself approved. Only one new version may be in the making
// at a time. It performs the process's Establish activity.
func (s *Service) NewVersion(ctx context.Context, number string, in NewVersion) (out Document, err error) {
	defer errs.Wrap(&err, "start a new version of %s", number)
	cur, err := s.Document(ctx, number)
	if err != nil {
		return out, err
	}
	if err := mayVersion(cur.Number, cur.State, cur.NextVersion); err != nil {
		return out, err
	}
	row := docRow{Kind: cur.Kind, VersionNumber: cur.VersionNumber + 1, Body: cur.Body, KPI: cur.KPI,
		SupersedesID: cur.ID, Supersedes: cur.Number}
	title, desc := cur.Title, cur.Description
	if in.Title != nil {
		title = *in.Title
	}
	if in.Description != nil {
		desc = *in.Description
	}
	if in.Body != nil {
		row.Body = *in.Body
	}
	if in.KPI != nil {
		row.KPI = in.KPI
	}
	if err := validateDocument(row.Kind, row.Body, row.KPI); err != nil {
		return out, err
	}
	r, err := s.records.Create(ctx, DocumentType, record.NewRecord{Title: title, Description: desc, Marking: cur.Marking,
		Process: cur.Process, TeamID: cur.TeamID, ServiceID: cur.ServiceID,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			if err := s.stillVersionable(ctx, tx, cur.ID); err != nil {
				return nil, err
			}
			return audit.Diff(docAudited, map[string]any{}, docFields(row)), insertDoc(ctx, tx, r.ID, row)
		}})
	if err != nil {
		return out, err
	}
	return document(r, row, lineage{}), nil
}

// stillVersionable checks, with the old version's row locked, that it is still
// approved and that no other new version started meanwhile.
func (s *Service) stillVersionable(ctx context.Context, tx *db.Tx, id int64) error {
	var number, state string
	if err := tx.QueryRowContext(ctx, `SELECT number, state FROM records WHERE id = ?`+s.db.ForUpdate(), id).Scan(&number, &state); err != nil {
		return fmt.Errorf("lock %d: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.number FROM control_documents d JOIN records r ON r.id = d.record_id
		WHERE d.supersedes_id = ? AND r.state IN (?, ?)`, id, DocDraft, DocInReview)
	if err != nil {
		return fmt.Errorf("find new versions: %w", err)
	}
	defer rows.Close()
	var next []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		next = append(next, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return mayVersion(number, state, strings.Join(slices.Compact(next), ", "))
}
