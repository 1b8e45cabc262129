package request_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"steward/internal/operation/request"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

// The catalog is kept by RF1's R and A holders; its definition is checked, each problem named.
func TestCatalogItems(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		_, err := e.svc.CreateItem(e.st, e.laptopItem())
		wantKind(t, err, errs.Forbidden, "a stranger adds to the catalog")
		_, err = e.svc.CreateItem(e.ag, e.laptopItem())
		wantKind(t, err, errs.Forbidden, "an RF analyst (C for RF1) adds to the catalog")

		bad := e.laptopItem()
		bad.Variables = append(bad.Variables, request.FormVariable{Name: "colour", Type: request.Choice})
		bad.Variables[0], bad.Variables[2] = bad.Variables[2], bad.Variables[0]
		bad.Variables[2].Choices = nil
		_, err = e.svc.CreateItem(e.mgr, bad)
		if !fieldAt(err, "body.variables[2].choices") {
			t.Fatalf("a choice variable without choices: %v", err)
		}
		notService := e.laptopItem()
		notService.ServiceID = e.laptop
		_, err = e.svc.CreateItem(e.mgr, notService)
		if !fieldAt(err, "body.serviceId") {
			t.Fatalf("a CI that is not a service: %v", err)
		}
		noTeam := e.laptopItem()
		noTeam.Approvals[1].TeamID, noTeam.Tasks[0].TeamID = 999999, 999998
		_, err = e.svc.CreateItem(e.mgr, noTeam)
		if !fieldAt(err, "body.approvals[1].teamId") || !fieldAt(err, "body.tasks[0].teamId") {
			t.Fatalf("unknown teams: %v", err)
		}

		item := e.createItem(e.laptopItem())
		if item.ID == 0 || item.ServiceName != "Workplace" || !item.Active || len(item.Tasks) != 3 || item.Version != 1 ||
			item.CreatedBy != e.manager.ID || item.Variables[0].Label != "Model" {
			t.Fatalf("created: %+v", item)
		}
		if a := e.audits("catalog.item.create"); len(a) != 1 {
			t.Fatalf("create audits: %d", len(a))
		}
		if ev := e.events("catalog.item_created"); len(ev) != 1 || ev[0].Data["name"] != "New laptop" {
			t.Fatalf("catalog.item_created: %+v", ev)
		}

		// Changes need the current version and RF1; a list given replaces the item's list.
		_, err = e.svc.UpdateItem(e.mgr, item.ID, item.Version+1, request.ItemChange{Name: ptr("Laptop")})
		wantKind(t, err, errs.PreconditionFailed, "a stale version")
		_, err = e.svc.UpdateItem(e.st, item.ID, item.Version, request.ItemChange{Name: ptr("Laptop")})
		wantKind(t, err, errs.Forbidden, "a stranger changes an item")
		tasks := []request.CatalogTask{{Name: "Ship it", TeamID: e.desk, Stage: 1}}
		up, err := e.svc.UpdateItem(e.mgr, item.ID, item.Version, request.ItemChange{Name: ptr("Laptop"), Tasks: &tasks})
		if err != nil || up.Name != "Laptop" || len(up.Tasks) != 1 || up.Version != 2 || len(up.Variables) != 6 {
			t.Fatalf("updated: %+v %v", up, err)
		}
		changes := e.audits("catalog.item.update")
		if len(changes) != 1 || len(changes[0].ChangeList) != 2 || changes[0].ChangeList[0].Field != "name" || changes[0].ChangeList[1].Field != "tasks" {
			t.Fatalf("update audit: %+v", changes)
		}
		badChoice := []request.FormVariable{{Name: "x", Type: request.Choice, Choices: []string{"a", "a"}}}
		_, err = e.svc.UpdateItem(e.mgr, item.ID, up.Version, request.ItemChange{Variables: &badChoice})
		if !fieldAt(err, "body.variables[0].choices[1]") {
			t.Fatalf("a duplicate choice: %v", err)
		}

		// The catalog lists what is offered; a withdrawn item is listed on request.
		other := e.laptopItem()
		other.Name, other.Category = "Desk phone", "telephony"
		phone := e.createItem(other)
		if _, err := e.svc.UpdateItem(e.mgr, phone.ID, phone.Version, request.ItemChange{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		page, total, err := e.svc.Items(e.st, request.ItemFilter{Active: ptr(true)}, listing.Params{})
		if err != nil || total != 1 || page.Items[0].Name != "Laptop" {
			t.Fatalf("active items: %d %+v %v", total, page.Items, err)
		}
		page, total, err = e.svc.Items(e.st, request.ItemFilter{Q: "PHO"}, listing.Params{})
		if err != nil || total != 1 || page.Items[0].ID != phone.ID {
			t.Fatalf("items named like pho: %d %v", total, err)
		}
		page, total, err = e.svc.Items(e.st, request.ItemFilter{Category: "telephony", ServiceID: e.service}, listing.Params{})
		if err != nil || total != 1 || page.Items[0].Active {
			t.Fatalf("telephony items: %d %+v %v", total, page.Items, err)
		}

		// An item with requests cannot be deleted; one without can.
		e.submit(e.rc, item.ID, e.goodValues())
		up, _ = e.svc.Item(e.st, item.ID)
		wantKind(t, e.svc.DeleteItem(e.mgr, item.ID, up.Version), errs.Conflict, "delete an item with requests")
		phone, _ = e.svc.Item(e.st, phone.ID)
		wantKind(t, e.svc.DeleteItem(e.st, phone.ID, phone.Version), errs.Forbidden, "a stranger deletes")
		if err := e.svc.DeleteItem(e.mgr, phone.ID, phone.Version); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Item(e.st, phone.ID)
		wantKind(t, err, errs.NotFound, "a deleted item")
	})
}

// The request list costs one count and one page query, whatever the page size.
func TestRequestListQueries(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		for i := 0; i < 3; i++ {
			e.submit(e.rc, item.ID, e.goodValues())
			e.submit(e.mx, item.ID, e.goodValues())
		}
		count := func(limit int) (int64, listing.Page[request.RequestSummary], int64) {
			ctx, n := db.CountQueries(e.ag)
			page, total, err := e.svc.Requests(ctx, request.Filter{}, listing.Params{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			return n(), page, total
		}
		small, page, total := count(2)
		large, all, _ := count(50)
		if small != large || small != 2 {
			t.Fatalf("queries per page: %d at limit 2, %d at limit 50; want 2 each", small, large)
		}
		if total != 6 || len(page.Items) != 2 || page.NextCursor == "" || len(all.Items) != 6 || all.Items[0].RequesterName == "" ||
			all.Items[0].CatalogItemName != "New laptop" || all.Items[0].ServiceName != "Workplace" {
			t.Fatalf("pages: total %d, %d then %d items, first %+v", total, len(page.Items), len(all.Items), all.Items[0])
		}
		// Following the cursors visits every request once.
		seen := map[string]bool{}
		p := listing.Params{Limit: 4}
		for {
			pg, _, err := e.svc.Requests(e.ag, request.Filter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range pg.Items {
				seen[r.Number] = true
			}
			if pg.NextCursor == "" {
				break
			}
			p.Cursor = pg.NextCursor
		}
		if len(seen) != 6 {
			t.Fatalf("the cursor walk saw %d requests", len(seen))
		}

		mine, total, err := e.svc.MyRequests(e.rc, listing.Params{})
		if err != nil || total != 3 || mine.Items[0].RequesterID != e.ria.ID {
			t.Fatalf("ria's requests: %d %v", total, err)
		}
		for _, c := range []struct {
			f    request.Filter
			want int64
		}{
			{request.Filter{RequesterID: e.max.ID}, 3},
			{request.Filter{State: request.Submitted}, 6},
			{request.Filter{State: request.Closed}, 0},
			{request.Filter{CatalogItemID: item.ID}, 6},
			{request.Filter{Open: ptr(true)}, 6},
			{request.Filter{Open: ptr(false)}, 0},
			{request.Filter{TeamID: e.desk}, 0},
		} {
			_, n, err := e.svc.Requests(e.ag, c.f, listing.Params{})
			if err != nil || n != c.want {
				t.Errorf("filter %+v: %d, want %d (%v)", c.f, n, c.want, err)
			}
		}
		_, _, err = e.svc.Requests(e.ag, request.Filter{State: "lost"}, listing.Params{})
		if !fieldAt(err, "query.state") {
			t.Fatalf("an unknown state: %v", err)
		}
		_, _, err = e.svc.Requests(e.ag, request.Filter{}, listing.Params{Sort: "title"})
		if !fieldAt(err, "query.sort") {
			t.Fatalf("an unsortable field: %v", err)
		}
	})
}

// Two parallel tasks completed at the same moment open the next stage exactly once.
func TestParallelTasksFinishedTogether(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		it := e.laptopItem()
		it.Approvals = nil
		item := e.createItem(it)
		for round := 0; round < 3; round++ {
			r := e.submit(e.rc, item.ID, e.goodValues())
			r = e.mustStep(e.ag, r.Number, request.ActionValidate, "").Request
			image, port := taskOf(t, r, "Image the laptop"), taskOf(t, r, "Open a network port")
			e.mustTask(e.an, image, "start")
			e.mustTask(e.bn, port, "start")
			var wg sync.WaitGroup
			errc := make(chan error, 2)
			for _, w := range []struct {
				ctx    context.Context
				number string
			}{{e.an, image}, {e.bn, port}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.taskStep(w.ctx, w.number, "complete")
					errc <- err
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			r = e.get(r.Number)
			var stage2 int
			for _, k := range r.Stages[1].Tasks {
				if k.Number != "" {
					stage2++
				}
			}
			var opened int
			if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM request_tasks t JOIN records q ON q.id = t.request_id
				WHERE q.number = ?`, r.Number).Scan(&opened); err != nil {
				t.Fatal(err)
			}
			if r.Stage != 2 || stage2 != 1 || opened != 3 {
				t.Fatalf("round %d: stage %d, %d stage-2 tasks, %d tasks in all", round, r.Stage, stage2, opened)
			}
		}
	})
}

// The task list is a team's queue.
func TestTaskList(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		it := e.laptopItem()
		it.Approvals = nil
		item := e.createItem(it)
		var numbers []string
		for i := 0; i < 3; i++ {
			r := e.submit(e.rc, item.ID, e.goodValues())
			e.mustStep(e.ag, r.Number, request.ActionValidate, "")
			numbers = append(numbers, r.Number)
		}
		page, total, err := e.svc.Tasks(e.an, request.TaskFilter{TeamID: e.desk, Open: ptr(true)}, listing.Params{})
		if err != nil || total != 3 || page.Items[0].TeamName != "desk" || page.Items[0].Request != numbers[0] {
			t.Fatalf("the desk's queue: %d %+v %v", total, page.Items, err)
		}
		_, total, err = e.svc.Tasks(e.an, request.TaskFilter{Request: numbers[1]}, listing.Params{})
		if err != nil || total != 2 {
			t.Fatalf("one request's tasks: %d %v", total, err)
		}
		_, total, err = e.svc.Requests(e.ag, request.Filter{TeamID: e.network}, listing.Params{})
		if err != nil || total != 3 {
			t.Fatalf("requests with a task for the network team: %d %v", total, err)
		}
		_, _, err = e.svc.Tasks(e.an, request.TaskFilter{State: "submitted"}, listing.Params{})
		if !fieldAt(err, "query.state") {
			t.Fatalf("a request state for tasks: %v", err)
		}
		_, err = e.svc.Task(e.an, numbers[0])
		wantKind(t, err, errs.NotFound, fmt.Sprintf("read request %s as a task", numbers[0]))
	})
}
