package record_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

func TestRegisterRefusesBadTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, db.SQLite))
	if err := e.svc.Register(ticketType()); !errs.Is(err, errs.Conflict) {
		t.Fatalf("second ticket: %v", err)
	}
	same := ticketType()
	same.Name = "other"
	if err := e.svc.Register(same); !errs.Is(err, errs.Conflict) {
		t.Fatalf("same prefix: %v", err)
	}
	wrong := ticketType()
	wrong.Name, wrong.Prefix = "wrong", "WRG"
	wrong.Transitions[0].Activity = "ChM5"
	if err := e.svc.Register(wrong); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "ChM5") {
		t.Fatalf("foreign activity: %v", err)
	}
	wrong.Transitions[0].Activity = "IM99"
	if err := e.svc.Register(wrong); !errs.Is(err, errs.Invalid) {
		t.Fatalf("unknown activity: %v", err)
	}
}

func TestNumbering(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		admin, actx := e.user("admin", true)
		_ = admin
		first := e.ticket(actx, "first")
		if first.Number != "TKT0000001" || first.State != "new" || first.Version != 1 || first.Marking != "UNCLASSIFIED" {
			t.Fatalf("first = %+v", first)
		}
		if first.RequesterID != admin.ID {
			t.Fatalf("requester = %d", first.RequesterID)
		}

		// An administrator changes the prefix: new numbers use it, old ones keep theirs.
		ti, err := e.svc.SetPrefix(actx, "ticket", "HD")
		if err != nil || ti.CurrentPrefix != "HD" {
			t.Fatalf("set prefix: %+v, %v", ti, err)
		}
		second := e.ticket(actx, "second")
		if second.Number != "HD0000002" {
			t.Fatalf("second = %s", second.Number)
		}
		if got, err := e.svc.Get(actx, "tkt0000001"); err != nil || got.ID != first.ID {
			t.Fatalf("old number: %+v, %v", got, err)
		}
		for _, bad := range []string{"hd", "H", "HD1", "TOOLONGXX"} {
			if _, err := e.svc.SetPrefix(actx, "ticket", bad); !errs.Is(err, errs.Invalid) {
				t.Errorf("prefix %q: %v", bad, err)
			}
		}
		// Another type may not take a prefix its numbers would collide with.
		other := ticketType()
		other.Name, other.Prefix = "other", "OTH"
		if err := e.svc.Register(other); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetPrefix(actx, "other", "TKT"); !errs.Is(err, errs.Conflict) {
			t.Errorf("prefix the ticket type defaults to: %v", err)
		}
		if _, err := e.svc.SetPrefix(actx, "other", "HD"); !errs.Is(err, errs.Conflict) {
			t.Errorf("prefix in use: %v", err)
		}
		if _, err := e.svc.SetPrefix(actx, "ticket", "TKT"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetPrefix(actx, "other", "HD"); !errs.Is(err, errs.Conflict) {
			t.Errorf("prefix with numbered records of another type: %v", err)
		}
		if _, err := e.svc.SetPrefix(actx, "nope", "NOPE"); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown type: %v", err)
		}
		if got := e.audits("record.prefix.set"); len(got) != 2 {
			t.Fatalf("%d prefix audits", len(got))
		}
		types, err := e.svc.Types(actx)
		if err != nil || len(types) != 2 || types[1].Name != "ticket" || types[1].CurrentPrefix != "TKT" || types[1].PrefixVersion != 3 {
			t.Fatalf("types = %+v, %v", types, err)
		}

		// Eight concurrent creates draw eight distinct, consecutive numbers.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var numbers []string
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.svc.Create(actx, "ticket", record.NewRecord{Title: fmt.Sprintf("concurrent %d", i)})
				if err != nil {
					t.Errorf("create %d: %v", i, err)
					return
				}
				mu.Lock()
				numbers = append(numbers, r.Number)
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.Sort(numbers)
		want := []string{}
		for i := 3; i <= 10; i++ {
			want = append(want, fmt.Sprintf("TKT%07d", i))
		}
		if !slices.Equal(numbers, want) {
			t.Fatalf("numbers = %v, want %v", numbers, want)
		}
		if got := e.events("record.created"); len(got) != 10 {
			t.Fatalf("%d record.created events", len(got))
		}
		if got := e.audits("record.create"); len(got) != 10 {
			t.Fatalf("%d record.create audits", len(got))
		}
	})
}

func TestCreateValidatesAssignment(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		alice, ctx := e.user("alice", false)
		bob, _ := e.user("bob", false)
		desk := e.team("desk", alice)
		if _, err := e.svc.Create(ctx, "ticket", record.NewRecord{Title: "x", TeamID: desk.ID, AssigneeID: bob.ID}); !errs.Is(err, errs.Invalid) ||
			!strings.Contains(fmt.Sprint(err), "validation") {
			t.Fatalf("assignee outside the team: %v", err)
		}
		if _, err := e.svc.Create(ctx, "ticket", record.NewRecord{Title: "x", TeamID: 9999}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown team: %v", err)
		}
		if _, err := e.svc.Create(ctx, "ticket", record.NewRecord{Title: "  "}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("empty title: %v", err)
		}
		if _, err := e.svc.Create(ctx, "nope", record.NewRecord{Title: "x"}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown type: %v", err)
		}
		r, err := e.svc.Create(ctx, "ticket", record.NewRecord{Title: "x", TeamID: desk.ID, AssigneeID: alice.ID, Priority: 2, Marking: "CUI"})
		if err != nil || r.TeamID != desk.ID || r.AssigneeID != alice.ID || r.Priority != 2 || r.Marking != "CUI" {
			t.Fatalf("create: %+v, %v", r, err)
		}
		if _, err := e.svc.Get(ctx, "TKT9999999"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown number: %v", err)
		}
	})
}

func TestAssignAndUpdate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		alice, ctx := e.user("alice", false)
		bob, _ := e.user("bob", false)
		carol, _ := e.user("carol", false)
		desk := e.team("desk", alice, bob)
		net := e.team("network", carol)
		r := e.ticket(ctx, "Printer on fire")

		r, err := e.svc.Assign(ctx, r.Number, desk.ID, alice.ID, r.Version)
		if err != nil || r.TeamID != desk.ID || r.AssigneeID != alice.ID || r.Reassignments != 0 || r.Version != 2 {
			t.Fatalf("first assignment: %+v, %v", r, err)
		}
		if _, err := e.svc.Assign(ctx, r.Number, desk.ID, carol.ID, r.Version); !errs.Is(err, errs.Invalid) {
			t.Fatalf("assignee outside the team: %v", err)
		}
		if _, err := e.svc.Assign(ctx, r.Number, desk.ID, bob.ID, 1); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale version: %v", err)
		}
		if r, err = e.svc.Assign(ctx, r.Number, desk.ID, bob.ID, r.Version); err != nil || r.Reassignments != 1 {
			t.Fatalf("to bob: %+v, %v", r, err)
		}
		if r, err = e.svc.Assign(ctx, r.Number, net.ID, carol.ID, r.Version); err != nil || r.Reassignments != 2 {
			t.Fatalf("to network: %+v, %v", r, err)
		}
		same, err := e.svc.Assign(ctx, r.Number, net.ID, carol.ID, r.Version)
		if err != nil || same.Version != r.Version {
			t.Fatalf("unchanged assignment bumped the version: %+v, %v", same, err)
		}
		if got := e.events("record.assigned"); len(got) != 3 || got[2].Data["previousAssigneeId"] != float64(bob.ID) {
			t.Fatalf("assigned events: %+v", got)
		}
		au := e.audits("record.assign")
		if len(au) != 3 {
			t.Fatalf("%d assign audits", len(au))
		}
		if c, ok := changeOf(au[0], "assigneeId"); !ok || c.Old != float64(bob.ID) || c.New != float64(carol.ID) {
			t.Fatalf("newest assign audit: %+v", au[0].ChangeList)
		}

		// Updates: audited old and new values, re-indexed for search, version checked.
		prio, title := 1, "Printer on fire in building 7"
		u, err := e.svc.Update(ctx, r.Number, r.Version, record.Update{Priority: &prio, Title: &title})
		if err != nil || u.Priority != 1 || u.Title != title || u.Version != r.Version+1 {
			t.Fatalf("update: %+v, %v", u, err)
		}
		if _, err := e.svc.Update(ctx, r.Number, r.Version, record.Update{Priority: &prio}); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale update: %v", err)
		}
		bad := 9
		if _, err := e.svc.Update(ctx, r.Number, u.Version, record.Update{Priority: &bad}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("priority 9: %v", err)
		}
		up := e.audits("record.update")
		if len(up) != 1 {
			t.Fatalf("%d update audits", len(up))
		}
		if c, ok := changeOf(up[0], "priority"); !ok || c.Old != nil && c.Old != float64(0) || c.New != float64(1) {
			t.Fatalf("priority change: %+v", up[0].ChangeList)
		}
		page, _, err := e.svc.Search(ctx, record.Filter{Query: "building"}, listing.Params{Limit: 10})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("search after update: %+v, %v", page, err)
		}
	})
}

func TestJournalInternalAndPublic(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		requester, rctx := e.user("requester", false)
		agent, actx := e.user("agent", false)
		_, octx := e.user("outsider", false)
		desk := e.team("desk", agent)
		r := e.ticket(rctx, "VPN drops", record.NewRecord{TeamID: desk.ID, AssigneeID: agent.ID})
		if r.RequesterID != requester.ID {
			t.Fatal("requester")
		}
		if _, err := e.svc.AddJournal(actx, r.Number, record.WorkNote, "checked the concentrator logs"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddJournal(actx, r.Number, record.Comment, "we are looking into it"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddJournal(rctx, r.Number, record.Comment, "thanks"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddJournal(rctx, r.Number, record.WorkNote, "sneaky"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("requester's work note: %v", err)
		}
		if _, err := e.svc.AddJournal(actx, r.Number, record.System, "forged"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("system entry by a person: %v", err)
		}
		if _, err := e.svc.AddJournal(actx, r.Number, record.Comment, "   "); !errs.Is(err, errs.Invalid) {
			t.Fatalf("empty entry: %v", err)
		}
		kinds := func(es []record.JournalEntry) []string {
			var out []string
			for _, e := range es {
				out = append(out, string(e.Kind)+":"+e.AuthorName)
			}
			return out
		}
		all, err := e.svc.Journal(actx, r.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(all); !slices.Equal(got, []string{"system:requester", "work_note:agent", "comment:agent", "comment:requester"}) {
			t.Fatalf("agent reads %v", got)
		}
		// The requester asks for everything but gets the comments only.
		mine, err := e.svc.Journal(rctx, r.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(mine); !slices.Equal(got, []string{"comment:agent", "comment:requester"}) {
			t.Fatalf("requester reads %v", got)
		}
		public, _ := e.svc.Journal(octx, r.Number, false)
		if len(public) != 2 {
			t.Fatalf("public journal has %d entries", len(public))
		}
		if got := e.events("record.commented"); len(got) != 3 {
			t.Fatalf("%d record.commented events", len(got))
		}
	})
}

func TestAttachments(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, record.Config{MaxAttachment: 1024})
		_, ctx := e.user("alice", false)
		r := e.ticket(ctx, "Screenshots")
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
		a, err := e.svc.AddAttachment(ctx, r.Number, "../../shot.png", "application/x-msdownload", bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "shot.png" || a.ContentType != "image/png" || a.DeclaredType != "application/x-msdownload" || a.Size != int64(len(png)) || len(a.SHA256) != 64 {
			t.Fatalf("attachment = %+v", a)
		}
		html := []byte("<html><script>alert(1)</script></html>")
		h, err := e.svc.AddAttachment(ctx, r.Number, "notes.txt", "text/plain", bytes.NewReader(html))
		if err != nil || !strings.HasPrefix(h.ContentType, "text/html") {
			t.Fatalf("sniffed html: %+v, %v", h, err)
		}
		// The same content again is a second attachment over the same blob.
		again, err := e.svc.AddAttachment(ctx, r.Number, "copy.png", "", bytes.NewReader(png))
		if err != nil || again.SHA256 != a.SHA256 || again.ID == a.ID {
			t.Fatalf("duplicate: %+v, %v", again, err)
		}
		var blobs int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM blobs`).Scan(&blobs); err != nil || blobs != 2 {
			t.Fatalf("%d blobs, %v", blobs, err)
		}
		if _, err := e.svc.AddAttachment(ctx, r.Number, "big.bin", "", bytes.NewReader(make([]byte, 1025))); !errs.Is(err, errs.TooLarge) {
			t.Fatalf("over the limit: %v", err)
		}
		if _, err := e.svc.AddAttachment(ctx, r.Number, "exact.bin", "", bytes.NewReader(bytes.Repeat([]byte("a"), 1024))); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		if _, err := e.svc.AddAttachment(ctx, r.Number, "tool.exe", "", bytes.NewReader([]byte("MZ\x90\x00rest"))); !errs.Is(err, errs.Invalid) {
			t.Fatalf("executable: %v", err)
		}
		if _, err := e.svc.AddAttachment(ctx, r.Number, "empty", "", bytes.NewReader(nil)); !errs.Is(err, errs.Invalid) {
			t.Fatalf("empty: %v", err)
		}
		list, err := e.svc.Attachments(ctx, r.Number)
		if err != nil || len(list) != 4 {
			t.Fatalf("list: %d, %v", len(list), err)
		}
		got, data, err := e.svc.Attachment(ctx, a.ID)
		if err != nil || !bytes.Equal(data, png) || got.Name != "shot.png" {
			t.Fatalf("download: %+v, %v", got, err)
		}
		if _, _, err := e.svc.Attachment(ctx, 99999); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown attachment: %v", err)
		}
		if got := e.audits("record.attachment.add"); len(got) != 4 {
			t.Fatalf("%d attachment audits", len(got))
		}
	})
}

func TestLinks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		_, ctx := e.user("alice", false)
		parent := e.ticket(ctx, "Outage")
		child := e.ticket(ctx, "My mail is down")
		other := e.ticket(ctx, "Another")

		l, err := e.svc.Link(ctx, child.Number, record.ChildOf, parent.Number)
		if err != nil || l.Type != record.ChildOf || l.Record != parent.Number {
			t.Fatalf("link: %+v, %v", l, err)
		}
		if _, err := e.svc.Link(ctx, parent.Number, record.ParentOf, child.Number); !errs.Is(err, errs.Conflict) {
			t.Fatalf("same link from the other side: %v", err)
		}
		if _, err := e.svc.Link(ctx, child.Number, record.ParentOf, parent.Number); !errs.Is(err, errs.Conflict) {
			t.Fatalf("reversed parent link: %v", err)
		}
		if _, err := e.svc.Link(ctx, child.Number, record.RelatedTo, child.Number); !errs.Is(err, errs.Invalid) {
			t.Fatalf("self link: %v", err)
		}
		if _, err := e.svc.Link(ctx, child.Number, record.RelatedTo, "TKT7777777"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown target: %v", err)
		}
		if _, err := e.svc.Link(ctx, other.Number, record.RelatedTo, parent.Number); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Link(ctx, parent.Number, record.RelatedTo, other.Number); !errs.Is(err, errs.Conflict) {
			t.Fatalf("related both ways: %v", err)
		}
		if _, err := e.svc.Link(ctx, other.Number, record.DuplicateOf, parent.Number); err != nil {
			t.Fatal(err)
		}
		ls, err := e.svc.Links(ctx, parent.Number)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range ls {
			got = append(got, string(l.Type)+" "+l.Record)
		}
		want := []string{"parent_of " + child.Number, "related_to " + other.Number, "duplicated_by " + other.Number}
		if !slices.Equal(got, want) {
			t.Fatalf("parent's links = %v, want %v", got, want)
		}
		if err := e.svc.Unlink(ctx, other.Number, l.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unlink through a record not on the link: %v", err)
		}
		if err := e.svc.Unlink(ctx, parent.Number, l.ID); err != nil {
			t.Fatal(err)
		}
		if ls, _ := e.svc.Links(ctx, child.Number); len(ls) != 0 {
			t.Fatalf("child still has %v", ls)
		}
		if len(e.audits("record.link")) != 3 || len(e.audits("record.unlink")) != 1 || len(e.events("record.linked")) != 3 {
			t.Fatal("links not audited")
		}
	})
}

func TestWatchers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		alice, actx := e.user("alice", false)
		bob, bctx := e.user("bob", false)
		carol, _ := e.user("carol", false)
		desk := e.team("desk", alice)
		r := e.ticket(bctx, "Watch me", record.NewRecord{TeamID: desk.ID})
		if err := e.svc.Watch(bctx, r.Number, bob.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Watch(bctx, r.Number, bob.ID); err != nil {
			t.Fatalf("watching twice: %v", err)
		}
		if err := e.svc.Watch(bctx, r.Number, carol.ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("bob adds carol: %v", err)
		}
		if err := e.svc.Watch(actx, r.Number, carol.ID); err != nil {
			t.Fatalf("team member adds carol: %v", err)
		}
		if err := e.svc.Watch(actx, r.Number, 99999); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		ws, err := e.svc.Watchers(bctx, r.Number)
		if err != nil || len(ws) != 2 || ws[0].Username != "bob" || ws[1].Username != "carol" {
			t.Fatalf("watchers = %+v, %v", ws, err)
		}
		if err := e.svc.Unwatch(bctx, r.Number, bob.ID); err != nil {
			t.Fatal(err)
		}
		if ws, _ := e.svc.Watchers(bctx, r.Number); len(ws) != 1 {
			t.Fatalf("after unwatch: %+v", ws)
		}
		if len(e.audits("record.watch")) != 2 || len(e.audits("record.unwatch")) != 1 {
			t.Fatal("watch changes not audited once each")
		}
	})
}

func TestVisibilityHook(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, db.SQLite))
	secret := ticketType()
	secret.Name, secret.Prefix = "secret", "SEC"
	secret.Visible = func(_ context.Context, p *auth.Principal, r *record.Record) bool {
		return p != nil && (p.Admin || p.UserID == r.RequesterID)
	}
	if err := e.svc.Register(secret); err != nil {
		t.Fatal(err)
	}
	_, octx := e.user("owner", false)
	_, sctx := e.user("snoop", false)
	r, err := e.svc.Create(octx, "secret", record.NewRecord{Title: "classified breach"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(octx, r.Number); err != nil {
		t.Fatalf("owner: %v", err)
	}
	if _, err := e.svc.Get(sctx, r.Number); !errs.Is(err, errs.NotFound) {
		t.Fatalf("snoop gets: %v", err)
	}
	if _, err := e.svc.Journal(sctx, r.Number, true); !errs.Is(err, errs.NotFound) {
		t.Fatalf("snoop reads the journal: %v", err)
	}
	open := e.ticket(octx, "public ticket")
	if _, err := e.svc.Link(octx, open.Number, record.CausedBy, r.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Link(sctx, open.Number, record.RelatedTo, r.Number); !errs.Is(err, errs.Invalid) {
		t.Fatalf("snoop links to the hidden record: %v", err)
	}
	for ctx, want := range map[context.Context]int{octx: 1, sctx: 0} {
		if ls, err := e.svc.Links(ctx, open.Number); err != nil || len(ls) != want {
			t.Fatalf("links: %+v, %v (want %d)", ls, err, want)
		}
	}
	for ctx, want := range map[context.Context]int{octx: 1, sctx: 0} {
		page, _, err := e.svc.Search(ctx, record.Filter{Query: "breach"}, listing.Params{Limit: 10})
		if err != nil || len(page.Items) != want {
			t.Fatalf("search finds %d, want %d (%v)", len(page.Items), want, err)
		}
	}
}

// TestCreateInAndLinkInCommitTogether checks the in-transaction forms: a
// record and its link commit together, and a failure later in the same
// transaction leaves neither behind.
func TestCreateInAndLinkInCommitTogether(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		_, ctx := e.user("alice", false)
		first, err := e.svc.Create(ctx, "ticket", record.NewRecord{Title: "first"})
		if err != nil {
			t.Fatal(err)
		}
		var second record.Record
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if second, err = e.svc.CreateIn(ctx, tx, "ticket", record.NewRecord{Title: "second"}); err != nil {
				return err
			}
			_, err := e.svc.LinkIn(ctx, tx, second.Number, record.CausedBy, first.Number)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		links, err := e.svc.Links(ctx, first.Number)
		if err != nil || len(links) != 1 || links[0].Record != second.Number || links[0].Type != record.Causes {
			t.Fatalf("links of %s: %+v, %v", first.Number, links, err)
		}
		boom := errors.New("boom")
		var third record.Record
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if third, err = e.svc.CreateIn(ctx, tx, "ticket", record.NewRecord{Title: "third"}); err != nil {
				return err
			}
			if _, err := e.svc.LinkIn(ctx, tx, third.Number, record.RelatedTo, first.Number); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("rolled back transaction: %v", err)
		}
		if _, err := e.svc.Get(ctx, third.Number); !errs.Is(err, errs.NotFound) {
			t.Fatalf("the record of a rolled-back transaction is there: %v", err)
		}
		if links, _ := e.svc.Links(ctx, first.Number); len(links) != 1 {
			t.Fatalf("the link of a rolled-back transaction is there: %+v", links)
		}
	})
}

// TestCreateInRefusalDoesNotWaitForItself checks that a refusal met inside a
// caller's transaction is audited after that transaction, not inside a
// second one waiting for the same write connection (which would never come
// on SQLite).
func TestCreateInRefusalDoesNotWaitForItself(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		guarded := ticketType()
		guarded.Name, guarded.Prefix, guarded.CreateActivity = "guarded", "GRD", "IM2"
		if err := e.svc.Register(guarded); err != nil {
			t.Fatal(err)
		}
		_, ctx := e.user("nobody", false)
		done := make(chan error, 1)
		go func() {
			done <- d.InTx(ctx, func(tx *db.Tx) error {
				_, err := e.svc.CreateIn(ctx, tx, "guarded", record.NewRecord{Title: "x"})
				return err
			})
		}()
		select {
		case err := <-done:
			if !errs.Is(err, errs.Forbidden) {
				t.Fatalf("create without a role: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("CreateIn's refusal waited for its own transaction")
		}
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'record.denied'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d denials audited, want 1", n)
		}
	})
}
