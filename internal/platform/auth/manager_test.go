package auth_test

import (
	"testing"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/listing"
)

func ptr[T any](v T) *T { return &v }

// A user's manager is set on create and update, validated (an existing active
// account, not the user, no loop in the chain of managers) and audited.
func TestUserManager(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		boss := f.user(t, "boss")
		mid, err := f.s.CreateUser(f.ctx, auth.NewUser{Username: "mid", Password: goodPassword, ManagerID: boss.ID})
		if err != nil || mid.ManagerID != boss.ID {
			t.Fatalf("create with a manager: %+v %v", mid, err)
		}
		if got, _ := f.s.GetUser(f.ctx, mid.ID); got.ManagerID != boss.ID {
			t.Fatalf("stored manager = %d, want %d", got.ManagerID, boss.ID)
		}
		_, err = f.s.CreateUser(f.ctx, auth.NewUser{Username: "ghost", Password: goodPassword, ManagerID: 999999})
		wantField(t, err, "body.managerId")

		low, err := f.s.CreateUser(f.ctx, auth.NewUser{Username: "low", Password: goodPassword, ManagerID: mid.ID})
		if err != nil {
			t.Fatal(err)
		}
		// boss → mid → low: boss cannot report to low, nor to mid, nor to boss.
		for _, m := range []int64{low.ID, mid.ID, boss.ID, 999999} {
			cur, _ := f.s.GetUser(f.ctx, boss.ID)
			_, err := f.s.UpdateUser(f.ctx, boss.ID, cur.Version, auth.UserUpdate{ManagerID: ptr(m)})
			wantField(t, err, "body.managerId")
		}
		out := f.user(t, "outsider")
		if err := f.s.DisableUser(f.ctx, out.ID); err != nil {
			t.Fatal(err)
		}
		cur, _ := f.s.GetUser(f.ctx, low.ID)
		_, err = f.s.UpdateUser(f.ctx, low.ID, cur.Version, auth.UserUpdate{ManagerID: ptr(out.ID)})
		wantField(t, err, "body.managerId")

		// Moving low under boss directly is fine, and audited with old and new value.
		u, err := f.s.UpdateUser(f.ctx, low.ID, cur.Version, auth.UserUpdate{ManagerID: ptr(boss.ID)})
		if err != nil || u.ManagerID != boss.ID {
			t.Fatalf("move under boss: %+v %v", u, err)
		}
		items, _, err := audit.List(f.ctx, f.d, audit.Filter{Action: "user.update", ObjectID: idStr(low.ID), Limit: 5})
		if err != nil || len(items) != 1 {
			t.Fatalf("audit of the move: %v %v", items, err)
		}
		var seen bool
		for _, c := range items[0].ChangeList {
			if c.Field == "managerId" && c.Old == float64(mid.ID) && c.New == float64(boss.ID) {
				seen = true
			}
		}
		if !seen {
			t.Fatalf("the move is not audited as managerId %d → %d: %+v", mid.ID, boss.ID, items[0].ChangeList)
		}
		// 0 removes the manager.
		u, err = f.s.UpdateUser(f.ctx, low.ID, u.Version, auth.UserUpdate{ManagerID: ptr(int64(0))})
		if err != nil || u.ManagerID != 0 {
			t.Fatalf("remove the manager: %+v %v", u, err)
		}
		page, _, err := f.s.ListUsers(f.ctx, listing.Params{Fields: "id,managerId"}, []listing.Filter{{Field: "managerId", Value: boss.ID}})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != mid.ID {
			t.Fatalf("users managed by boss: %+v %v", page.Items, err)
		}
	})
}
