package web

import (
	"strings"
	"testing"

	"steward/internal/operation/incident"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// TestClosureReviewStaysOnItsSideOfTheSecurityLine checks that the closing
// categorisation review of a normal incident offers the desk's categories and
// none of the security path's, which the service would refuse.
func TestClosureReviewStaysOnItsSideOfTheSecurityLine(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	in := s.incident("Mail bounces", 2, 2, s.ana.ID)
	if _, err := s.incidents.Perform(s.anaCtx, in.Number, "resolve", incident.StepInput{Version: in.Version,
		Fields: incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Replaced the relay's certificate."}}); err != nil {
		t.Fatal(err)
	}
	_, body := s.do("GET", "/records/"+in.Number, nil, s.loginAs("ana"))
	mustContain(t, "the close form", body, "Category at closure", `<option value="software" selected>`)
	if strings.Contains(body, `value="cnd-cat-7"`) {
		t.Fatal("a normal incident's closure review offers a security category")
	}
}
