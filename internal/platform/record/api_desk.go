package record

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/httpx"
)

type savedFiltersIn struct {
	Page string `query:"page" required:"true" maxLength:"100" doc:"The list page, such as /desk."`
}

type savedFiltersOut struct {
	Body struct {
		Items []SavedFilter `json:"items"`
	}
}

type saveFilterIn struct {
	Body struct {
		Page   string `json:"page" maxLength:"100" doc:"The list page, such as /desk."`
		Name   string `json:"name" maxLength:"80"`
		Query  string `json:"query" maxLength:"2000" doc:"The page's URL query string."`
		Shared bool   `json:"shared,omitempty" doc:"List it for every user, read-only."`
	}
}

type savedFilterOne struct{ Body SavedFilter }

type bulkIn struct{ Body BulkInput }

type bulkOut struct {
	Body struct {
		Items []BulkResult `json:"items"`
		// Changed counts the records changed; the others say why not.
		Changed int `json:"changed"`
	}
}

// registerDesk adds the service desk workspace's saved filters and bulk changes.
func registerDesk(a *httpx.API, s *Service) {
	tag := []string{"Records"}
	httpx.Register(a, huma.Operation{OperationID: "list-saved-filters", Method: http.MethodGet, Path: "/api/v1/saved-filters",
		Summary: "Your saved filters of a list page, and those others shared", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *savedFiltersIn) (*savedFiltersOut, error) {
			fs, err := s.SavedFilters(ctx, in.Page)
			if err != nil {
				return nil, err
			}
			out := &savedFiltersOut{}
			out.Body.Items = fs
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "save-filter", Method: http.MethodPost, Path: "/api/v1/saved-filters",
		Summary: "Save a filter (replacing yours of the same page and name)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *saveFilterIn) (*savedFilterOne, error) {
			f, err := s.SaveFilter(ctx, SavedFilter{Page: in.Body.Page, Name: in.Body.Name, Query: in.Body.Query, Shared: in.Body.Shared})
			if err != nil {
				return nil, err
			}
			return &savedFilterOne{Body: f}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-saved-filter", Method: http.MethodDelete, Path: "/api/v1/saved-filters/{id}",
		Summary: "Delete one of your saved filters", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*struct{}, error) {
			return nil, s.DeleteSavedFilter(ctx, in.ID)
		})
	httpx.Register(a, huma.Operation{OperationID: "bulk-change-records", Method: http.MethodPost, Path: "/api/v1/records/bulk",
		Summary: "Assign, act on or annotate several records at once", Tags: tag,
		Description: "Each record changes in its own transaction with its own guard decision; the result lists every record " +
			"with the status its change alone would have had, so one refusal does not undo the others."},
		httpx.Authenticated, func(ctx context.Context, in *bulkIn) (*bulkOut, error) {
			rs, err := s.Bulk(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			out := &bulkOut{}
			out.Body.Items = rs
			for _, r := range rs {
				if r.Status == http.StatusOK {
					out.Body.Changed++
				}
			}
			return out, nil
		})
}
