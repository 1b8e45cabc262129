package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"steward/internal/operation/problem"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/record"
)

// TestTrendsRaiseAProblem shows recurring incidents grouped by category and
// raises a problem from a group: refused without a PM role (the reason next
// to the group), then created with the group's incidents linked.
func TestTrendsRaiseAProblem(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	var numbers []string
	for _, title := range []string{"Mail bounces", "Mail slow", "Mail lost"} {
		numbers = append(numbers, s.incident(title, 2, 2, 0).Number)
	}
	cookie := s.loginAs("ana")
	_, body := s.do("GET", "/desk/trends?by=category&days=30&min=3", nil, cookie)
	mustContain(t, "the trends", body, "Recurring incidents", "Software", `<td>3</td>`, numbers[2], "Raise a problem")

	form := url.Values{}
	for _, line := range strings.Split(body, "\n") {
		if i := strings.Index(line, `type="hidden" name="`); i >= 0 {
			for _, part := range strings.Split(line, "<input ")[1:] {
				name := between(part, `name="`, `"`)
				form.Set(name, between(part, `value="`, `"`))
			}
		}
	}
	form.Set("incidents", strings.Join(numbers, " "))
	res, body := s.do("POST", "/desk/trends/problem", form, cookie)
	wantStatus(t, "a problem without a PM role", res, body, http.StatusForbidden)
	mustContain(t, "the refusal", body, "PM2", "Raise a problem")

	s.assign(problem.Process, "process-analyst", s.ana)
	res, _ = s.do("POST", "/desk/trends/problem", form, cookie)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/records/PRB") {
		t.Fatalf("raise: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	number := strings.TrimPrefix(res.Header.Get("Location"), "/records/")
	links, err := s.records.Links(s.anaCtx, number)
	if err != nil {
		t.Fatal(err)
	}
	linked := 0
	for _, l := range links {
		if l.Type == record.Causes {
			linked++
		}
	}
	if linked != 3 {
		t.Fatalf("the problem causes %d incidents, want 3: %+v", linked, links)
	}
}

// between is the text of s between the first open and the close after it.
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}
