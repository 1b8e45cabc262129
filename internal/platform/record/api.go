package record

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/auth"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
)

// RegisterAPI adds the record endpoints to a. Reading and writing records
// needs a signed-in caller; the RACI guard decides each workflow step inside
// the service. Changing a number prefix needs settings.write.
//
// Attachments are uploaded as the raw request body (any content type; the
// stored type is sniffed from the bytes) with the file name in the name query
// parameter, up to the service's size limit.
func RegisterAPI(a *httpx.API, s *Service) {
	registerRecords(a, s)
	registerJournal(a, s)
	registerAttachments(a, s)
	registerLinks(a, s)
	registerWorkflow(a, s)
	registerSteps(a, s)
	registerDesk(a, s)
}

// NumberPath is the {number} of a record path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The record number, such as INC0000001."`
}

// IDPath is the {id} of a resource path.
type IDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type recordListIn struct {
	listing.Params
	Q        string `query:"q" maxLength:"500" doc:"Words to find in the number, title and description; results are ranked by relevance and take no sort."`
	Type     string `query:"type" maxLength:"40" doc:"Records of this type."`
	Process  string `query:"process" maxLength:"40" doc:"Records governed by this process, such as IM."`
	State    string `query:"state" maxLength:"40" doc:"Records in this state."`
	Team     int64  `query:"team" minimum:"0" doc:"Records of this team."`
	Assignee int64  `query:"assignee" minimum:"0" doc:"Records assigned to this user."`
	Open     string `query:"open" enum:"true,false" doc:"true: only open records; false: only closed ones."`
}

type recordPage struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[Record]
}

type recordOne struct {
	ETag string `header:"ETag"`
	Body Record
}

type recordGetIn struct {
	NumberPath
	listing.FieldsParam
}

type recordPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Title       *string `json:"title,omitempty" maxLength:"200"`
		Description *string `json:"description,omitempty" maxLength:"32000"`
		Priority    *int    `json:"priority,omitempty" minimum:"0" maximum:"5" doc:"1 (highest) to 5; 0 clears it."`
		ServiceID   *int64  `json:"serviceId,omitempty" minimum:"0" doc:"The CMDB service; 0 clears it."`
		Marking     *string `json:"marking,omitempty" maxLength:"64" doc:"The classification marking."`
	}
}

type assignIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		TeamID     int64 `json:"teamId" minimum:"0" doc:"The team; 0 for none."`
		AssigneeID int64 `json:"assigneeId" minimum:"0" doc:"The person, a member of the team when one is set; 0 for none."`
	}
}

type typesOut struct {
	Body struct {
		Items []TypeInfo `json:"items"`
	}
}

type prefixIn struct {
	Name string `path:"name" maxLength:"40"`
	Body struct {
		Prefix string `json:"prefix" maxLength:"8" doc:"2 to 8 capital letters."`
	}
}

type typeOut struct{ Body TypeInfo }

func registerRecords(a *httpx.API, s *Service) {
	tag := []string{"Records"}
	httpx.Register(a, huma.Operation{OperationID: "list-records", Method: http.MethodGet, Path: "/api/v1/records",
		Summary: "List or search records", Tags: tag,
		Description: "Without q, records in the order sort asks for (newest first by default). With q, the records whose number, " +
			"title or description hold every word of q (as a prefix), best match first. Query syntax is not interpreted."},
		httpx.Authenticated, func(ctx context.Context, in *recordListIn) (*recordPage, error) {
			f := Filter{Query: in.Q, Type: in.Type, Process: in.Process, State: in.State, TeamID: in.Team, AssigneeID: in.Assignee}
			if in.Open != "" {
				open := in.Open == "true"
				f.Open = &open
			}
			page, total, err := s.Search(ctx, f, in.Params)
			if err != nil {
				return nil, err
			}
			filters := url.Values{"q": {in.Q}, "type": {in.Type}, "process": {in.Process}, "state": {in.State}, "team": {strconv.FormatInt(in.Team, 10)},
				"assignee": {strconv.FormatInt(in.Assignee, 10)}, "open": {in.Open}}
			return &recordPage{TotalCount: total, Link: listing.NextLink("/api/v1/records", in.Params, filters, page.NextCursor), Body: page}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-record", Method: http.MethodGet, Path: "/api/v1/records/{number}",
		Summary: "Get a record", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *recordGetIn) (*recordOne, error) {
			if err := List.CheckFields(in.Fields); err != nil {
				return nil, err
			}
			r, err := s.Get(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &recordOne{ETag: httpx.ETag(r.Version), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-record", Method: http.MethodPatch, Path: "/api/v1/records/{number}",
		Summary: "Change a record's title, description, priority, service or marking", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *recordPatchIn) (*recordOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			r, err := s.Update(ctx, in.Number, v, Update{Title: b.Title, Description: b.Description, Priority: b.Priority,
				ServiceID: b.ServiceID, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &recordOne{ETag: httpx.ETag(r.Version), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "assign-record", Method: http.MethodPut, Path: "/api/v1/records/{number}/assignment",
		Summary: "Assign a record to a team and a person", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *assignIn) (*recordOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			r, err := s.Assign(ctx, in.Number, in.Body.TeamID, in.Body.AssigneeID, v)
			if err != nil {
				return nil, err
			}
			return &recordOne{ETag: httpx.ETag(r.Version), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-record-types", Method: http.MethodGet, Path: "/api/v1/record-types",
		Summary: "Record types with their states, transitions and number prefixes", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*typesOut, error) {
			ts, err := s.Types(ctx)
			out := &typesOut{}
			out.Body.Items = ts
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "set-record-prefix", Method: http.MethodPut, Path: "/api/v1/record-types/{name}/prefix",
		Summary: "Change the number prefix of a record type", Tags: tag},
		string(auth.PermSettingsWrite), func(ctx context.Context, in *prefixIn) (*typeOut, error) {
			t, err := s.SetPrefix(ctx, in.Name, in.Body.Prefix)
			if err != nil {
				return nil, err
			}
			return &typeOut{Body: t}, nil
		})
}

type journalIn struct {
	NumberPath
	Internal bool `query:"internal" default:"true" doc:"Include work notes and system entries, if you may read them."`
}

type journalOut struct {
	Body struct {
		Items []JournalEntry `json:"items"`
	}
}

type journalAddIn struct {
	NumberPath
	Body struct {
		Kind JournalKind `json:"kind" enum:"work_note,comment" doc:"work_note is internal; comment is read by the requester too."`
		Body string      `json:"body" minLength:"1" maxLength:"32000"`
	}
}

type journalOne struct{ Body JournalEntry }

func registerJournal(a *httpx.API, s *Service) {
	tag := []string{"Records"}
	httpx.Register(a, huma.Operation{OperationID: "list-record-journal", Method: http.MethodGet, Path: "/api/v1/records/{number}/journal",
		Summary: "A record's journal, oldest first", Tags: tag,
		Description: "A requester who does not work the record reads its comments only."},
		httpx.Authenticated, func(ctx context.Context, in *journalIn) (*journalOut, error) {
			es, err := s.Journal(ctx, in.Number, in.Internal)
			if err != nil {
				return nil, err
			}
			out := &journalOut{}
			out.Body.Items = es
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-record-journal", Method: http.MethodPost, Path: "/api/v1/records/{number}/journal",
		Summary: "Add a work note or a comment", Tags: tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *journalAddIn) (*journalOne, error) {
			e, err := s.AddJournal(ctx, in.Number, in.Body.Kind, in.Body.Body)
			if err != nil {
				return nil, err
			}
			return &journalOne{Body: e}, nil
		})
}

type attachmentsOut struct {
	Body struct {
		Items []Attachment `json:"items"`
	}
}

type uploadIn struct {
	NumberPath
	Name        string `query:"name" required:"true" minLength:"1" maxLength:"255" doc:"The file name."`
	ContentType string `header:"Content-Type" doc:"Kept as the declared type only; the stored type is sniffed from the content."`
	RawBody     []byte `contentType:"application/octet-stream"`
}

type attachmentOne struct{ Body Attachment }

type downloadOut struct {
	ContentType string `header:"Content-Type"`
	Disposition string `header:"Content-Disposition"`
	NoSniff     string `header:"X-Content-Type-Options"`
	Sandbox     string `header:"Content-Security-Policy"`
	Cache       string `header:"Cache-Control"`
	ETag        string `header:"ETag"`
	Body        []byte
}

func registerAttachments(a *httpx.API, s *Service) {
	tag := []string{"Records"}
	httpx.Register(a, huma.Operation{OperationID: "list-record-attachments", Method: http.MethodGet, Path: "/api/v1/records/{number}/attachments",
		Summary: "A record's attachments", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*attachmentsOut, error) {
			as, err := s.Attachments(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &attachmentsOut{}
			out.Body.Items = as
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-record-attachment", Method: http.MethodPost, Path: "/api/v1/records/{number}/attachments",
		Summary: "Attach a file (the raw request body)", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Send the file as the request body, with its name in the name query parameter. Any content type is " +
			"accepted (send application/octet-stream for files over 1 MiB); the stored type is sniffed from the bytes. " +
			"Native executables are refused. The size limit is " + strconv.FormatInt(s.MaxAttachment(), 10) + " bytes.",
		MaxBodyBytes: s.MaxAttachment() + 1, BodyReadTimeout: 2 * time.Minute},
		httpx.Authenticated, func(ctx context.Context, in *uploadIn) (*attachmentOne, error) {
			at, err := s.AddAttachment(ctx, in.Number, in.Name, in.ContentType, bytes.NewReader(in.RawBody))
			if err != nil {
				return nil, err
			}
			return &attachmentOne{Body: at}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "download-attachment", Method: http.MethodGet, Path: "/api/v1/attachments/{id}",
		Summary: "Download an attachment", Tags: tag,
		Responses: map[string]*huma.Response{"200": {Description: "The file, always as a download.",
			Content: map[string]*huma.MediaType{"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*downloadOut, error) {
			at, data, err := s.Attachment(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &downloadOut{ContentType: at.ContentType,
				Disposition: mime.FormatMediaType("attachment", map[string]string{"filename": at.Name}),
				NoSniff:     "nosniff", Sandbox: "sandbox; default-src 'none'", Cache: "private, no-cache",
				ETag: `"` + at.SHA256 + `"`, Body: data}, nil
		})
}

type linksOut struct {
	Body struct {
		Items []Link `json:"items"`
	}
}

type linkIn struct {
	NumberPath
	Body struct {
		Type   LinkType `json:"type" enum:"parent_of,child_of,caused_by,causes,duplicate_of,duplicated_by,related_to,resolved_by,resolves" doc:"The link as this record reads it."`
		Target string   `json:"target" maxLength:"32" doc:"The other record's number."`
	}
}

type linkOne struct{ Body Link }

type linkDeleteIn struct {
	NumberPath
	ID int64 `path:"id" minimum:"1"`
}

type watchersOut struct {
	Body struct {
		Items []Watcher `json:"items"`
	}
}

type watcherIn struct {
	NumberPath
	UserID int64 `path:"userId" minimum:"1"`
}

func registerLinks(a *httpx.API, s *Service) {
	tag := []string{"Records"}
	httpx.Register(a, huma.Operation{OperationID: "list-record-links", Method: http.MethodGet, Path: "/api/v1/records/{number}/links",
		Summary: "A record's links to other records", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*linksOut, error) {
			ls, err := s.Links(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &linksOut{}
			out.Body.Items = ls
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "link-record", Method: http.MethodPost, Path: "/api/v1/records/{number}/links",
		Summary: "Link a record to another", Tags: tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *linkIn) (*linkOne, error) {
			l, err := s.Link(ctx, in.Number, in.Body.Type, in.Body.Target)
			if err != nil {
				return nil, err
			}
			return &linkOne{Body: l}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "unlink-record", Method: http.MethodDelete, Path: "/api/v1/records/{number}/links/{id}",
		Summary: "Remove a link", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *linkDeleteIn) (*struct{}, error) {
			return nil, s.Unlink(ctx, in.Number, in.ID)
		})
	httpx.Register(a, huma.Operation{OperationID: "list-record-watchers", Method: http.MethodGet, Path: "/api/v1/records/{number}/watchers",
		Summary: "The users who follow a record", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*watchersOut, error) {
			ws, err := s.Watchers(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &watchersOut{}
			out.Body.Items = ws
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "watch-record", Method: http.MethodPut, Path: "/api/v1/records/{number}/watchers/{userId}",
		Summary: "Follow a record (yourself, or another user if you work the record)", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *watcherIn) (*struct{}, error) {
			return nil, s.Watch(ctx, in.Number, in.UserID)
		})
	httpx.Register(a, huma.Operation{OperationID: "unwatch-record", Method: http.MethodDelete, Path: "/api/v1/records/{number}/watchers/{userId}",
		Summary: "Stop following a record", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *watcherIn) (*struct{}, error) {
			return nil, s.Unwatch(ctx, in.Number, in.UserID)
		})
}
