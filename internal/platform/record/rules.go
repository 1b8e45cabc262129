package record

import (
	"bytes"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
)

// JournalKind says who may read a journal entry.
type JournalKind string

// The journal kinds.
const (
	// WorkNote is internal: the people working the record read it, the requester does not.
	WorkNote JournalKind = "work_note"
	// Comment is public: the requester reads it too.
	Comment JournalKind = "comment"
	// System entries are written by the kernel on transitions, assignments and the like.
	System JournalKind = "system"
)

// JournalEntry is one entry of a record's journal.
type JournalEntry struct {
	ID         int64       `json:"id"`
	RecordID   int64       `json:"recordId"`
	Kind       JournalKind `json:"kind" enum:"work_note,comment,system"`
	Body       string      `json:"body"`
	AuthorID   int64       `json:"authorId,omitempty"`
	AuthorName string      `json:"authorName"`
	CreatedAt  time.Time   `json:"createdAt"`
}

// Internal reports whether the entry is hidden from a requester.
func (e JournalEntry) Internal() bool { return e.Kind != Comment }

// validateJournal checks a journal entry a person writes (system entries are the kernel's).
func validateJournal(kind JournalKind, body string) error {
	if kind != WorkNote && kind != Comment {
		return errs.Field("body.kind", "a journal entry is a work_note or a comment", string(kind))
	}
	if strings.TrimSpace(body) == "" || utf8.RuneCountInString(body) > 32000 || !utf8.ValidString(body) {
		return errs.Field("body.body", "an entry has 1 to 32000 characters", nil)
	}
	return nil
}

// seesInternal reports whether p may read work notes and system entries of r:
// everyone but a requester who is neither an administrator, the assignee nor a
// member of the record's team.
func seesInternal(p *auth.Principal, r *Record, teamMember bool) bool {
	if p == nil {
		return false
	}
	if p.Admin || p.UserID != r.RequesterID || p.UserID == r.AssigneeID || teamMember {
		return true
	}
	return false
}

// mayManageWatchers reports whether p may add or remove user as a watcher of r:
// anyone may watch or unwatch for themselves; changing someone else's watch
// takes an administrator, the assignee or a member of the record's team.
func mayManageWatchers(p *auth.Principal, r *Record, user int64, teamMember bool) bool {
	if p == nil {
		return false
	}
	return p.UserID == user || p.Admin || p.UserID == r.AssigneeID || teamMember
}

// LinkType is a kind of link between two records, named from the side that holds it.
type LinkType string

// The stored link types. Each is one row; the other record sees its inverse.
const (
	ParentOf    LinkType = "parent_of"
	CausedBy    LinkType = "caused_by"
	DuplicateOf LinkType = "duplicate_of"
	RelatedTo   LinkType = "related_to"
	ResolvedBy  LinkType = "resolved_by"
)

// The inverse names, as the other side of a stored link reads it.
const (
	ChildOf      LinkType = "child_of"
	Causes       LinkType = "causes"
	DuplicatedBy LinkType = "duplicated_by"
	Resolves     LinkType = "resolves"
)

// linkCanon maps every accepted link name to its stored type and whether the
// ends are swapped (the name is an inverse).
var linkCanon = map[LinkType]struct {
	stored  LinkType
	inverse bool
}{
	ParentOf: {ParentOf, false}, ChildOf: {ParentOf, true},
	CausedBy: {CausedBy, false}, Causes: {CausedBy, true},
	DuplicateOf: {DuplicateOf, false}, DuplicatedBy: {DuplicateOf, true},
	RelatedTo:  {RelatedTo, false},
	ResolvedBy: {ResolvedBy, false}, Resolves: {ResolvedBy, true},
}

// LinkTypes lists every link name a caller may use, stored types and inverses.
var LinkTypes = []LinkType{ParentOf, ChildOf, CausedBy, Causes, DuplicateOf, DuplicatedBy, RelatedTo, ResolvedBy, Resolves}

// Inverse is the name the other record of a link reads it by.
func (t LinkType) Inverse() LinkType {
	switch t {
	case ParentOf:
		return ChildOf
	case ChildOf:
		return ParentOf
	case CausedBy:
		return Causes
	case Causes:
		return CausedBy
	case DuplicateOf:
		return DuplicatedBy
	case DuplicatedBy:
		return DuplicateOf
	case ResolvedBy:
		return Resolves
	case Resolves:
		return ResolvedBy
	}
	return t
}

// canonicalLink turns "a <name> b" into its stored row: the stored type and
// the from and to ends. Related links are stored lowest id first. Self-links
// and unknown names are refused.
func canonicalLink(name LinkType, a, b int64) (stored LinkType, from, to int64, err error) {
	c, ok := linkCanon[name]
	if !ok {
		names := make([]string, len(LinkTypes))
		for i, t := range LinkTypes {
			names[i] = string(t)
		}
		return "", 0, 0, errs.Field("body.type", "unknown link type; types: "+strings.Join(names, ", "), string(name))
	}
	if a == b {
		return "", 0, 0, errs.Field("body.target", "a record cannot be linked to itself", nil)
	}
	from, to = a, b
	if c.inverse {
		from, to = b, a
	}
	if c.stored == RelatedTo && from > to {
		from, to = to, from
	}
	return c.stored, from, to, nil
}

// Link is a typed link as one record sees it.
type Link struct {
	ID int64 `json:"id"`
	// Type is the link as this record reads it: "child_of" on the child of a "parent_of" link.
	Type LinkType `json:"type"`
	// Record is the other record's number, with its type, title and state.
	Record      string    `json:"record"`
	RecordType  string    `json:"recordType"`
	RecordTitle string    `json:"recordTitle"`
	RecordState string    `json:"recordState"`
	CreatedBy   int64     `json:"createdBy,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Watcher is a user who follows a record.
type Watcher struct {
	UserID    int64     `json:"userId"`
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"createdAt"`
}

// Attachment is a file attached to a record; its content is a blob shared by identical files.
type Attachment struct {
	ID       int64  `json:"id"`
	RecordID int64  `json:"recordId"`
	Name     string `json:"name"`
	// ContentType is what the content sniffs as; the uploader's claim is only kept as DeclaredType.
	ContentType  string    `json:"contentType"`
	DeclaredType string    `json:"declaredType,omitempty"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	UploadedBy   int64     `json:"uploadedBy,omitempty"`
	UploaderName string    `json:"uploaderName"`
	CreatedAt    time.Time `json:"createdAt"`
}

// cleanFileName keeps the last path element of a client's file name, without
// control characters, at most 255 bytes; an empty result is "attachment".
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == "/" || name == ".." {
		return "attachment"
	}
	return name
}

// isExecutable reports whether content starts like a native executable (PE, ELF, Mach-O).
func isExecutable(head []byte) bool {
	for _, magic := range [][]byte{
		[]byte("MZ"), []byte("\x7fELF"),
		{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe},
		{0xca, 0xfe, 0xba, 0xbe},
	} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return false
}

// StepState is where a waiting workflow step stands.
type StepState string

// The step states.
const (
	// Consulting waits for the consulted (C) holders to answer or be waived.
	Consulting StepState = "consulting"
	// PendingApproval waits for an accountable (A) holder.
	PendingApproval StepState = "pending_approval"
	// Applied steps have moved the record.
	Applied StepState = "applied"
	// Rejected steps were refused by an accountable holder.
	Rejected StepState = "rejected"
	// Cancelled steps were overtaken: the record moved on before they completed.
	Cancelled StepState = "cancelled"
)

// Open reports whether the step still waits.
func (s StepState) Open() bool { return s == Consulting || s == PendingApproval }

// Step is a transition that waits for consultation or approval before it applies.
// The approvals API lists the steps that need approval.
type Step struct {
	ID         int64     `json:"id"`
	RecordID   int64     `json:"recordId"`
	Record     string    `json:"record"`
	RecordType string    `json:"recordType"`
	Action     string    `json:"action"`
	Activity   string    `json:"activity"`
	FromState  string    `json:"fromState"`
	ToState    string    `json:"toState"`
	State      StepState `json:"state" enum:"consulting,pending_approval,applied,rejected,cancelled"`
	// NeedsApproval is true when an accountable (A) holder must approve the step.
	NeedsApproval bool   `json:"needsApproval"`
	Comment       string `json:"comment,omitempty"`
	RequestedBy   int64  `json:"requestedBy"`
	// PerformerOverride is true when the requester could act only through the administrator override.
	PerformerOverride bool      `json:"performerOverride,omitempty"`
	RequestedAt       time.Time `json:"requestedAt"`
	// Approvers are the A holders when the approval was requested (the "mine" queue).
	Approvers []int64   `json:"approvers"`
	DecidedBy int64     `json:"decidedBy,omitempty"`
	DecidedAt time.Time `json:"decidedAt,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// DecisionOverride is true when an administrator decided without holding A.
	DecisionOverride bool `json:"decisionOverride,omitempty"`
}

// ConsultationState is where a consultation task stands.
type ConsultationState string

// The consultation states.
const (
	ConsultationOpen      ConsultationState = "open"
	ConsultationAnswered  ConsultationState = "answered"
	ConsultationWaived    ConsultationState = "waived"
	ConsultationCancelled ConsultationState = "cancelled"
)

// Consultation asks one consulted (C) holder for their view before a step completes.
type Consultation struct {
	ID         int64  `json:"id"`
	StepID     int64  `json:"stepId"`
	RecordID   int64  `json:"recordId"`
	Record     string `json:"record"`
	RecordType string `json:"recordType"`
	Action     string `json:"action"`
	Activity   string `json:"activity"`
	UserID     int64  `json:"userId"`
	// Roles are the roles through which the user is consulted.
	Roles string            `json:"roles"`
	State ConsultationState `json:"state" enum:"open,answered,waived,cancelled"`
	// Answer is the consulted user's answer, or the reason it was waived.
	Answer    string    `json:"answer,omitempty"`
	DecidedBy int64     `json:"decidedBy,omitempty"`
	DecidedAt time.Time `json:"decidedAt,omitzero"`
	CreatedAt time.Time `json:"createdAt"`
}

// validateReason checks an answer or a reason: 1 to 4000 characters.
func validateReason(field, s string) error {
	if strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > 4000 || !utf8.ValidString(s) {
		return errs.Field(field, "give 1 to 4000 characters", nil)
	}
	return nil
}

// maxTerms and maxTermLen bound a search query.
const (
	maxTerms   = 16
	maxTermLen = 64
)

// searchTerms splits a user's query into plain words: runs of letters, digits
// and combining marks, lower-cased, at most 16 of at most 64 characters. No
// operator, quote or bracket survives, so no query syntax reaches the engine.
func searchTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
	var out []string
	for _, w := range words {
		if utf8.RuneCountInString(w) > maxTermLen {
			w = string([]rune(w)[:maxTermLen])
		}
		if len(out) == maxTerms {
			break
		}
		out = append(out, w)
	}
	return out
}
