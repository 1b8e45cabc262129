package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// AddJournal writes a work note or a comment on a record. A requester who
// does not work the record (not its assignee, not in its team, not an
// administrator) may write comments only.
func (s *Service) AddJournal(ctx context.Context, number string, kind JournalKind, body string) (e JournalEntry, err error) {
	defer errs.Wrap(&err, "add %s to %s", kind, number)
	p, err := principal(ctx)
	if err != nil {
		return e, err
	}
	if err := validateJournal(kind, body); err != nil {
		return e, err
	}
	r, _, err := s.read(ctx, number)
	if err != nil {
		return e, err
	}
	if kind == WorkNote {
		member, err := s.memberIfRequester(ctx, &r, p.UserID)
		if err != nil {
			return e, err
		}
		if !seesInternal(p, &r, member) {
			return e, errs.E(errs.Forbidden, "as the requester of %s you may add comments, not work notes", r.Number)
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		if e, err = addJournal(ctx, tx, r.ID, kind, body, p.UserID, p.Username, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "record.journal.add", ObjectType: "record", ObjectID: r.Number,
			Changes: []audit.Change{{Field: "entry", New: e.ID}, {Field: "kind", New: string(kind)}, {Field: "body", New: body}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "record.commented", Subject: subject(&r), Data: map[string]any{
			"number": r.Number, "type": r.Type, "entry": e}})
	})
	return e, err
}

// memberIfRequester reports team membership only where it matters: when the caller is the requester.
func (s *Service) memberIfRequester(ctx context.Context, r *Record, user int64) (bool, error) {
	if user != r.RequesterID {
		return false, nil
	}
	return isTeamMember(ctx, s.db, r.TeamID, user)
}

// Journal returns a record's journal, oldest first. Internal entries (work
// notes and system entries) are left out unless includeInternal is set and the
// caller may read them: a requester who does not work the record never does.
func (s *Service) Journal(ctx context.Context, number string, includeInternal bool) (out []JournalEntry, err error) {
	defer errs.Wrap(&err, "journal of %s", number)
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	r, _, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	if includeInternal {
		member, err := s.memberIfRequester(ctx, &r, p.UserID)
		if err != nil {
			return nil, err
		}
		includeInternal = seesInternal(p, &r, member)
	}
	return loadJournal(ctx, s.db, r.ID, includeInternal)
}

// AddAttachment stores a file on a record. The content is read up to the
// size limit (errs.TooLarge beyond it), its type is sniffed from the bytes
// (declared is kept only for reference), native executables are refused
// unless configured otherwise, and identical content is stored once.
func (s *Service) AddAttachment(ctx context.Context, number, name, declared string, content io.Reader) (a Attachment, err error) {
	defer errs.Wrap(&err, "attach to %s", number)
	p, err := principal(ctx)
	if err != nil {
		return a, err
	}
	r, _, err := s.read(ctx, number)
	if err != nil {
		return a, err
	}
	data, err := io.ReadAll(io.LimitReader(content, s.cfg.MaxAttachment+1))
	if err != nil {
		return a, fmt.Errorf("read attachment: %w", err)
	}
	if int64(len(data)) > s.cfg.MaxAttachment {
		return a, errs.E(errs.TooLarge, "an attachment is at most %d bytes", s.cfg.MaxAttachment)
	}
	if len(data) == 0 {
		return a, errs.Field("body", "the attachment is empty", nil)
	}
	if !s.cfg.AllowExecutables && isExecutable(data) {
		return a, errs.Field("body", "executable files are not accepted as attachments", nil)
	}
	sum := sha256.Sum256(data)
	a = Attachment{RecordID: r.ID, Name: cleanFileName(name), ContentType: http.DetectContentType(data),
		DeclaredType: truncate(strings.TrimSpace(declared), 255), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		UploadedBy: p.UserID, UploaderName: p.Username}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO blobs (sha256, size, data, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (sha256) DO NOTHING`, a.SHA256, a.Size, data, now); err != nil {
			return fmt.Errorf("store blob: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO record_attachments (record_id, blob_sha256, name, content_type, declared_type,
			size, uploaded_by, uploader_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.RecordID, a.SHA256, a.Name, a.ContentType, a.DeclaredType, a.Size, db.NullID(a.UploadedBy), a.UploaderName, now).Scan(&a.ID); err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
		a.CreatedAt = db.Time(now)
		if _, err := addJournal(ctx, tx, r.ID, System, fmt.Sprintf("Attached %s (%s, %d bytes).", a.Name, a.ContentType, a.Size),
			p.UserID, p.Username, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "record.attachment.add", ObjectType: "record", ObjectID: r.Number,
			Changes: []audit.Change{{Field: "attachment", New: a.ID}, {Field: "name", New: a.Name}, {Field: "contentType", New: a.ContentType},
				{Field: "size", New: a.Size}, {Field: "sha256", New: a.SHA256}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "record.attachment_added", Subject: subject(&r), Data: map[string]any{
			"number": r.Number, "type": r.Type, "attachment": a}})
	})
	return a, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

const attachmentCols = `id, record_id, name, content_type, declared_type, size, blob_sha256, COALESCE(uploaded_by, 0), uploader_name, created_at`

func scanAttachment(row scanner) (Attachment, error) {
	var a Attachment
	var at int64
	err := row.Scan(&a.ID, &a.RecordID, &a.Name, &a.ContentType, &a.DeclaredType, &a.Size, &a.SHA256, &a.UploadedBy, &a.UploaderName, &at)
	a.CreatedAt = db.Time(at)
	return a, err
}

// Attachments lists a record's attachments, oldest first.
func (s *Service) Attachments(ctx context.Context, number string) (out []Attachment, err error) {
	defer errs.Wrap(&err, "attachments of %s", number)
	r, _, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+attachmentCols+` FROM record_attachments WHERE record_id = ? ORDER BY id`, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out = []Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attachment returns an attachment and its content, if the caller may see its record.
func (s *Service) Attachment(ctx context.Context, id int64) (a Attachment, content []byte, err error) {
	defer errs.Wrap(&err, "attachment %d", id)
	a, err = scanAttachment(s.db.QueryRowContext(ctx, `SELECT `+attachmentCols+` FROM record_attachments WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return a, nil, errs.E(errs.NotFound, "no attachment %d", id)
	}
	if err != nil {
		return a, nil, err
	}
	r, err := loadRecordByID(ctx, s.db, s.db, a.RecordID, false)
	if err != nil {
		return a, nil, err
	}
	t, err := s.typ(r.Type)
	if err != nil {
		return a, nil, err
	}
	if err := s.visible(ctx, t, &r); err != nil {
		return a, nil, errs.E(errs.NotFound, "no attachment %d", id)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT data FROM blobs WHERE sha256 = ?`, a.SHA256).Scan(&content); err != nil {
		return a, nil, fmt.Errorf("read blob: %w", err)
	}
	if sum := sha256.Sum256(content); hex.EncodeToString(sum[:]) != a.SHA256 {
		return a, nil, fmt.Errorf("blob %s does not match its hash", a.SHA256)
	}
	return a, content, nil
}
