package listing_test

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

var spec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "id", Sortable: true, Kind: "int"},
		"name":      {SQL: "name", Sortable: true, Kind: "text"},
		"email":     {SQL: "email", Kind: "text"},
		"createdAt": {SQL: "created_at", Sortable: true, Kind: "int"},
	},
	Fields:      []string{"id", "name", "email", "createdAt"},
	DefaultSort: "name",
	IDColumn:    "id",
}

// fieldErr asserts err is Invalid and names location among its fields.
func fieldErr(t *testing.T, err error, location string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		t.Fatalf("err = %v, want an Invalid error naming %s", err, location)
	}
	for _, f := range e.Fields {
		if f.Location == location {
			return
		}
	}
	t.Fatalf("fields = %+v, want one at %s", e.Fields, location)
}

func TestBuildOrderAndLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		p         listing.Params
		wantPage  string
		wantLimit int
		wantSort  []string
	}{
		{"default sort and limit", listing.Params{}, " ORDER BY name, id LIMIT ?", 50, []string{"name"}},
		{"descending", listing.Params{Sort: "-createdAt", Limit: 10}, " ORDER BY created_at DESC, id LIMIT ?", 10, []string{"createdAt"}},
		{"several keys with spaces", listing.Params{Sort: " name , -id ", Limit: 500}, " ORDER BY name, id DESC, id LIMIT ?", 500, []string{"name", "id"}},
		{"empty parts ignored", listing.Params{Sort: ",,"}, " ORDER BY id LIMIT ?", 50, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q, err := spec.Build(c.p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if q.Page != c.wantPage || q.Where != "" || len(q.Args) != 0 {
				t.Errorf("page = %q where = %q args = %v, want %q", q.Page, q.Where, q.Args, c.wantPage)
			}
			if q.Limit != c.wantLimit || !reflect.DeepEqual(q.PageArgs, []any{c.wantLimit + 1}) {
				t.Errorf("limit = %d, page args = %v; want %d and one extra row", q.Limit, q.PageArgs, c.wantLimit)
			}
			if got := q.SortValues(); !reflect.DeepEqual(got, c.wantSort) {
				t.Errorf("sort values = %v, want %v", got, c.wantSort)
			}
		})
	}
}

func TestBuildRefusesBadParams(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		p        listing.Params
		filters  []listing.Filter
		location string
	}{
		{"unknown sort field", listing.Params{Sort: "password"}, nil, "query.sort"},
		{"unsortable field", listing.Params{Sort: "-email"}, nil, "query.sort"},
		{"sql in sort", listing.Params{Sort: "name;DROP TABLE teams"}, nil, "query.sort"},
		{"limit too large", listing.Params{Limit: listing.MaxLimit + 1}, nil, "query.limit"},
		{"unknown filter", listing.Params{}, []listing.Filter{{Field: "secret", Value: "x"}}, "query.secret"},
		{"unknown selected field", listing.Params{Fields: "id,password"}, nil, "query.fields"},
		{"cursor not base64", listing.Params{Cursor: "!!!"}, nil, "query.cursor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q, err := spec.Build(c.p, c.filters)
			if q != nil {
				t.Errorf("query = %+v, want nil", q)
			}
			fieldErr(t, err, c.location)
		})
	}
}

func TestBuildSortErrorListsSortableFields(t *testing.T) {
	t.Parallel()
	_, err := spec.Build(listing.Params{Sort: "email"}, nil)
	e, _ := errs.As(err)
	if e == nil || len(e.Fields) != 1 || !strings.Contains(e.Fields[0].Message, "createdAt, id, name") || e.Fields[0].Value != "email" {
		t.Fatalf("err = %+v, want the sortable fields listed and the bad value echoed", e)
	}
}

func TestBuildFilters(t *testing.T) {
	t.Parallel()
	q, err := spec.Build(listing.Params{Limit: 5}, []listing.Filter{
		{Field: "email", Value: "ops@example.mil"},
		{Field: "name", Value: "Net", Prefix: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := ` WHERE email = ? AND name LIKE ? ESCAPE '\'`; q.Where != want {
		t.Errorf("where = %q, want %q", q.Where, want)
	}
	if want := []any{"ops@example.mil", "Net%"}; !reflect.DeepEqual(q.Args, want) {
		t.Errorf("args = %v, want %v", q.Args, want)
	}
	if want := " ORDER BY name, id LIMIT ?"; q.Page != want {
		t.Errorf("page = %q, want %q", q.Page, want)
	}
}

func TestPrefixFilterEscapesLikeWildcards(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"100%":       `100\%%`,
		"a_b":        `a\_b%`,
		`back\slash`: `back\\slash%`,
		`%_\`:        `\%\_\\%`,
		"plain":      "plain%",
	}
	for in, want := range cases {
		q, err := spec.Build(listing.Params{}, []listing.Filter{{Field: "name", Value: in, Prefix: true}})
		if err != nil {
			t.Fatal(err)
		}
		if q.Args[0] != want {
			t.Errorf("prefix %q: LIKE pattern %q, want %q", in, q.Args[0], want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		sort     string
		vals     []any
		id       int64
		where    string
		wantCond string
		wantArgs []any
	}{
		{
			name: "text key ascending", sort: "name", vals: []any{"Network"}, id: 42,
			wantCond: " WHERE ((name > ?) OR (name = ? AND id > ?)) ORDER BY name, id LIMIT ?",
			wantArgs: []any{"Network", "Network", int64(42), 11},
		},
		{
			name: "int key descending", sort: "-createdAt", vals: []any{int64(1767225600000)}, id: 7,
			wantCond: " WHERE ((created_at < ?) OR (created_at = ? AND id > ?)) ORDER BY created_at DESC, id LIMIT ?",
			wantArgs: []any{int64(1767225600000), int64(1767225600000), int64(7), 11},
		},
		{
			name: "id only", sort: "id", vals: []any{int64(9)}, id: 9,
			wantCond: " WHERE ((id > ?) OR (id = ? AND id > ?)) ORDER BY id, id LIMIT ?",
			wantArgs: []any{int64(9), int64(9), int64(9), 11},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			first, err := spec.Build(listing.Params{Sort: c.sort, Limit: 10}, nil)
			if err != nil {
				t.Fatal(err)
			}
			cur := first.NextCursor(c.vals, c.id)
			next, err := spec.Build(listing.Params{Sort: c.sort, Limit: 10, Cursor: cur}, nil)
			if err != nil {
				t.Fatalf("own cursor %q refused: %v", cur, err)
			}
			if next.Page != c.wantCond {
				t.Errorf("page = %q\nwant   %q", next.Page, c.wantCond)
			}
			if !reflect.DeepEqual(next.PageArgs, c.wantArgs) {
				t.Errorf("page args = %#v, want %#v", next.PageArgs, c.wantArgs)
			}
		})
	}
}

func TestCursorJoinsFilterWithAnd(t *testing.T) {
	t.Parallel()
	first, _ := spec.Build(listing.Params{}, nil)
	cur := first.NextCursor([]any{"b"}, 2)
	q, err := spec.Build(listing.Params{Cursor: cur}, []listing.Filter{{Field: "email", Value: "x@y"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q.Page, " AND ((name > ?)") || q.Where != " WHERE email = ?" {
		t.Fatalf("where = %q page = %q", q.Where, q.Page)
	}
	if !reflect.DeepEqual(q.Args, []any{"x@y"}) {
		t.Fatalf("filter args = %v; cursor args must stay in PageArgs", q.Args)
	}
}

func TestTamperedCursorRefused(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	good, _ := spec.Build(listing.Params{Sort: "name"}, nil)
	valid := good.NextCursor([]any{"Network"}, 42)
	cases := []struct {
		name, sort, cursor string
	}{
		{"truncated", "name", valid[:len(valid)-3]},
		{"flipped to padding base64", "name", valid + "=="},
		{"not json", "name", enc("name=Network")},
		{"json object", "name", enc(`{"name":"Network","id":42}`)},
		{"too few values", "name", enc(`[42]`)},
		{"too many values", "name", enc(`["Network",42,1]`)},
		{"text where an id goes", "name", enc(`["Network","42 OR 1=1"]`)},
		{"number where text goes", "name", enc(`[1,42]`)},
		{"null value", "-createdAt", enc(`[null,42]`)},
		{"cursor from another sort", "name,-createdAt", valid},
		{"standard base64 alphabet", "name", base64.StdEncoding.EncodeToString([]byte(`["a?b>",42]`))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := spec.Build(listing.Params{Sort: c.sort, Cursor: c.cursor}, nil)
			fieldErr(t, err, "query.cursor")
		})
	}
}

func TestCheckFields(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "id", "id, name ,createdAt"} {
		if err := spec.CheckFields(ok); err != nil {
			t.Errorf("CheckFields(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"id,", "ID", "name,secret"} {
		fieldErr(t, spec.CheckFields(bad), "query.fields")
	}
}
