package record_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/record"
)

// TestSavedFilters saves, replaces, shares and deletes filters through the API:
// a user sees their own and the shared ones, never another's private one, and
// may delete only their own.
func TestSavedFilters(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		h := newAPI(e)
		analyst, manager := h.Token(c.analyst), h.Token(c.manager)
		var f record.SavedFilter
		h.Do("POST", "/api/v1/saved-filters", analyst, map[string]any{"page": "/desk", "name": "My P1s",
			"query": "?priority=1&cursor=abc&state=new"}).Want(t, 200).Decode(t, &f)
		if f.Query != "priority=1&state=new" || !f.Mine || f.Version != 1 {
			t.Fatalf("saved: %+v", f)
		}
		h.Do("POST", "/api/v1/saved-filters", analyst, map[string]any{"page": "/desk", "name": "My P1s",
			"query": "priority=1"}).Want(t, 200).Decode(t, &f)
		if f.Version != 2 || f.Query != "priority=1" {
			t.Fatalf("replaced: %+v", f)
		}
		var shared record.SavedFilter
		h.Do("POST", "/api/v1/saved-filters", analyst, map[string]any{"page": "/desk", "name": "Major", "query": "path=major",
			"shared": true}).Want(t, 200).Decode(t, &shared)
		var list struct{ Items []record.SavedFilter }
		h.Do("GET", "/api/v1/saved-filters?page=/desk", manager, nil).Want(t, 200).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Name != "Major" || list.Items[0].Mine {
			t.Fatalf("the manager sees: %+v", list.Items)
		}
		h.Do("DELETE", "/api/v1/saved-filters/"+strconv.FormatInt(shared.ID, 10), manager, nil).Want(t, 404)
		for _, bad := range []map[string]any{
			{"page": "desk", "name": "x", "query": ""},
			{"page": "/desk", "name": "", "query": ""},
			{"page": "/desk", "name": "x", "query": "%zz"},
			{"page": "/desk", "name": "a\x01b", "query": ""},
		} {
			h.Do("POST", "/api/v1/saved-filters", analyst, bad).Want(t, 422)
		}
		h.Do("DELETE", "/api/v1/saved-filters/"+strconv.FormatInt(shared.ID, 10), analyst, nil).Want(t, 204)
		h.Do("GET", "/api/v1/saved-filters?page=/desk", analyst, nil).Want(t, 200).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Name != "My P1s" {
			t.Fatalf("after delete: %+v", list.Items)
		}
	})
}

// TestBulk assigns and acts on several records at once: each record stands
// alone, so a refusal or a stale version on one leaves the others changed.
func TestBulk(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		h := newAPI(e)
		analyst := h.Token(c.analyst)
		a := c.ticket(e, "one")
		b := c.ticket(e, "two")
		other := e.ticket(c.s, "not the desk's", record.NewRecord{})
		var out struct {
			Items   []record.BulkResult
			Changed int
		}
		h.Do("POST", "/api/v1/records/bulk", analyst, map[string]any{
			"numbers": []string{a.Number, strings.ToLower(b.Number), other.Number, a.Number},
			"action":  "investigate", "note": "bulk triage",
			"versions": map[string]int64{b.Number: b.Version + 5},
		}).Want(t, 200).Decode(t, &out)
		if len(out.Items) != 3 || out.Changed != 1 {
			t.Fatalf("bulk: %+v", out)
		}
		want := map[string]int{a.Number: http.StatusOK, b.Number: http.StatusPreconditionFailed, other.Number: http.StatusForbidden}
		for _, r := range out.Items {
			if r.Status != want[r.Number] || (r.Status != 200) != (r.Error != "") {
				t.Fatalf("result for %s: %+v", r.Number, r)
			}
		}
		if got, _ := e.svc.Get(c.a, a.Number); got.State != "in_progress" {
			t.Fatalf("%s is %s", a.Number, got.State)
		}
		if got, _ := e.svc.Get(c.a, b.Number); got.State != "new" {
			t.Fatalf("a stale %s moved to %s", b.Number, got.State)
		}
		h.Do("POST", "/api/v1/records/bulk", analyst, map[string]any{"numbers": []string{a.Number}}).Want(t, 422)
		h.Do("POST", "/api/v1/records/bulk", analyst, map[string]any{"numbers": []string{}, "note": "x"}).Want(t, 422)
		h.Do("POST", "/api/v1/records/bulk", analyst, map[string]any{"numbers": []string{b.Number},
			"assign": map[string]any{"teamId": c.desk.ID, "assigneeId": 0}, "note": "back to the queue"}).Want(t, 200).Decode(t, &out)
		if out.Changed != 1 {
			t.Fatalf("bulk assign: %+v", out)
		}
		if got, _ := e.svc.Get(c.a, b.Number); got.AssigneeID != 0 {
			t.Fatalf("%s still assigned to %d", b.Number, got.AssigneeID)
		}
	})
}
