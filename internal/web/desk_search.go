package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
)

// The global search: the box in every page's header sends GET /search?q=…,
// which finds records by full text through the kernel and CIs by name through
// the CMDB. A query that is exactly a record's number opens the record.

// searchPageSize is how many records and CIs one search page lists.
const searchPageSize = 25

// maxSearchQuery is the longest query the search accepts, in characters.
const maxSearchQuery = 200

// numberLike matches what could be a record number: letters then digits.
var numberLike = regexp.MustCompile(`^[A-Za-z]{2,8}[0-9]{1,12}$`)

// searchData is the content of the search page.
type searchData struct {
	Query string
	Form  *form
	// Ran is set when there was a query to run.
	Ran     bool
	Records []queueRow
	Total   int64
	// Next is the address of the next page of records, or "".
	Next string
	CIs  []cmdb.CI
	// CIClass names each CI's class.
	CIClass map[int64]string
	// MoreCIs is set when more CIs start with the query than are listed.
	MoreCIs bool
	// HasCMDB is set when the CMDB is there to search.
	HasCMDB bool
}

// search serves GET /search?q=…&cursor=….
func (s *site) search(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := &searchData{Query: q, Form: newForm(), HasCMDB: s.CMDB != nil}
	status := http.StatusOK
	switch {
	case q == "":
	case utf8.RuneCountInString(q) > maxSearchQuery || !utf8.ValidString(q):
		d.Form.Set("q", "Search for at most 200 characters.")
		status = http.StatusUnprocessableEntity
	default:
		if numberLike.MatchString(q) && r.URL.Query().Get("cursor") == "" {
			if rec, err := s.Records.Get(ctx, q); err == nil {
				redirect(w, r, "/records/"+rec.Number)
				return nil
			} else if errs.KindOf(err) != errs.NotFound {
				return err
			}
		}
		d.Ran = true
		page, total, err := s.Records.Search(ctx, record.Filter{Query: q},
			listing.Params{Limit: searchPageSize, Cursor: r.URL.Query().Get("cursor")})
		if err != nil {
			if d.Form.FromError(err) {
				d.Form.Errors["q"], d.Form.Error = "That page of results is no longer there; search again.", ""
				status = http.StatusUnprocessableEntity
				break
			}
			return err
		}
		rows, err := s.recordRows(ctx, page.Items)
		if err != nil {
			return err
		}
		d.Records, d.Total = rows, total
		if page.NextCursor != "" {
			d.Next = "/search?" + url.Values{"q": {q}, "cursor": {page.NextCursor}}.Encode()
		}
		if s.CMDB != nil && r.URL.Query().Get("cursor") == "" {
			cis, _, err := s.CMDB.ListCIs(ctx, cmdb.CIFilter{Name: q}, listing.Params{Limit: searchPageSize + 1, Sort: "name"})
			if err != nil {
				return err
			}
			ix, err := s.cmdbClasses(ctx)
			if err != nil {
				return err
			}
			d.CIs, d.CIClass = cis.Items, map[int64]string{}
			if len(d.CIs) > searchPageSize {
				d.CIs, d.MoreCIs = d.CIs[:searchPageSize], true
			}
			for _, c := range d.CIs {
				d.CIClass[c.ID] = ix.label(c.Class)
			}
		}
	}
	title := "Search"
	if q != "" {
		title = "Search: " + q
	}
	s.render(w, r, status, "desk-search", &view{Title: title, Section: "desk", User: p, Data: d})
	return nil
}
