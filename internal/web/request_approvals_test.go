package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"steward/internal/operation/request"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// TestApprovalsPageDecidesCatalogApprovals checks that a catalog item's group
// approval waits on the approvals page of the team's members, that rejecting
// without a reason keeps the form with the error, and that approving starts
// the fulfilment.
func TestApprovalsPageDecidesCatalogApprovals(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	s.assign(request.Process, "process-analyst", s.ana)
	item, err := s.requests.CreateItem(s.rootCtx, request.CatalogItem{Name: "Headset", Description: "A USB headset.", Category: "hardware",
		ServiceID: s.service.ID, Active: true, Form: request.Form{
			Approvals: []request.CatalogApproval{{Kind: request.GroupApproval, TeamID: s.team.ID}},
			Tasks:     []request.CatalogTask{{Name: "Hand it over", TeamID: s.team.ID, Stage: 1}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.requests.Submit(s.carolCtx, request.NewRequest{CatalogItemID: item.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.requests.Perform(s.anaCtx, req.Number, "validate", request.StepInput{Version: req.Version}); err != nil {
		t.Fatal(err)
	}
	cookie := s.loginAs("ana")
	_, body := s.do("GET", "/approvals", nil, cookie)
	mustContain(t, "the approvals page", body, "Service requests waiting for your approval", req.Number, "Headset", "team Service desk")
	pending, err := s.requests.PendingApprovals(s.anaCtx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending: %+v, %v", pending, err)
	}
	path := "/approvals/requests/" + req.Number + "/" + itoa(pending[0].ID)
	res, body := s.do("POST", path+"/reject", url.Values{"reason": {"  "}, "next": {"/approvals"}}, cookie)
	wantStatus(t, "a rejection without a reason", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused rejection", body, "Give the reason for the rejection", `id="request-`+itoa(pending[0].ID)+`-error"`)
	_, carolBody := s.do("GET", "/approvals", nil, s.loginAs("carol"))
	if strings.Contains(carolBody, req.Number) {
		t.Fatal("the requester is asked to approve their own request")
	}
	res, _ = s.do("POST", path+"/approve", url.Values{"next": {"/approvals"}}, cookie)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	got, err := s.requests.Request(s.anaCtx, req.Number)
	if err != nil || got.State != request.InFulfilment {
		t.Fatalf("after the approval: %+v, %v", got.Record, err)
	}
}
