package sla

import (
	"reflect"
	"testing"
	"time"

	"steward/internal/platform/errs"
)

// TestApplies checks which audit actions apply changes.
func TestApplies(t *testing.T) {
	t.Parallel()
	for action, want := range map[string]bool{
		"record.create": true, "record.create.override": true, "record.update": true, "record.update.override": true,
		"record.assign": true, "record.assign.override": true, "record.transition": true, "record.transition.override": true,
		"record.system.update": true, "incident.hold": true, "incident.update": true, "request.fulfil": true,
		"record.step.request": false, "record.step.cancel": false, "record.journal.add": false, "record.attachment.add": false,
		"record.link": false, "record.unlink": false, "record.watch": false, "record.unwatch": false, "record.denied": false,
		"access.denied": false, "incident.update.denied": false, "record.approval.approve": false, "record.consultation": false,
		"": false,
	} {
		if got := Applies(action); got != want {
			t.Errorf("Applies(%q) = %v, want %v", action, got, want)
		}
	}
}

// TestEntryFromAudit reads audit rows as the kernel and the areas write them.
func TestEntryFromAudit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, action, json string
		applies            bool
		changes            []Change
		err                bool
	}{
		{name: "creation", action: "record.create", applies: true,
			json: `[{"field":"type","new":"incident"},{"field":"number","new":"INC9"},{"field":"title","new":"Mail down"},` +
				`{"field":"state","new":"new"},{"field":"priority","new":2},{"field":"teamId","new":0},{"field":"serviceId","new":12},` +
				`{"field":"category","new":"network"},{"field":"holdReason"}]`,
			changes: []Change{{Field: "type", Old: "", New: "incident"}, {Field: "state", Old: "", New: "new"},
				{Field: "priority", Old: "", New: "2"}, {Field: "teamId", Old: "", New: ""}, {Field: "serviceId", Old: "", New: "12"},
				{Field: "category", Old: "", New: "network"}, {Field: "holdReason", Old: "", New: ""}}},
		{name: "transition", action: "record.transition", applies: true,
			json:    `[{"field":"state","old":"in_progress","new":"on_hold"},{"field":"action","new":"hold"},{"field":"performedBy","new":4}]`,
			changes: []Change{{Field: "state", Old: "in_progress", New: "on_hold"}}},
		{name: "area fields", action: "incident.hold", applies: true,
			json:    `[{"field":"holdReason","old":null,"new":"awaiting_caller"},{"field":"heldAt","new":1773050400000}]`,
			changes: []Change{{Field: "holdReason", Old: "", New: "awaiting_caller"}}},
		{name: "a float id", action: "record.assign", applies: true, json: `[{"field":"assigneeId","old":3,"new":4.0}]`,
			changes: []Change{{Field: "assigneeId", Old: "3", New: "4"}}},
		{name: "no changes", action: "record.update", applies: true, json: ``},
		{name: "null changes", action: "record.update", applies: true, json: `null`},
		{name: "a step request names a state it has not reached", action: "record.step.request",
			json: `[{"field":"state","new":"resolved"}]`},
		{name: "denied", action: "incident.update.denied", json: `[{"field":"priority","new":1}]`},
		{name: "broken JSON", action: "record.update", applies: true, json: `[{"field":`, err: true},
		{name: "an object value", action: "record.update", applies: true, json: `[{"field":"state","new":{"a":1}}]`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, applies, err := EntryFromAudit(9, 1000, tc.action, []byte(tc.json))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if tc.err {
				return
			}
			if applies != tc.applies || e.Seq != 9 || e.At != 1000 || e.Action != tc.action {
				t.Fatalf("entry %+v applies %v", e, applies)
			}
			if !reflect.DeepEqual(e.Changes, tc.changes) {
				t.Fatalf("changes\n got %#v\nwant %#v", e.Changes, tc.changes)
			}
		})
	}
}

// TestFold checks snapshots: only tracked changes add one, same-instant
// entries amend it, stale entries are ignored, and maps are not shared with
// what a caller already holds.
func TestFold(t *testing.T) {
	t.Parallel()
	tl := Timeline{RecordID: 1, Number: "INC1"}
	tl.Fold(Entry{Seq: 10, At: 1000, Action: "record.create", Changes: []Change{{Field: "type", New: "incident"},
		{Field: "state", New: "new"}, {Field: "priority", New: 3}, {Field: "teamId", New: 0}, {Field: "title", New: "x"}}})
	if tl.Created != 1000 || tl.Seq != 10 || len(tl.Snapshots) != 1 {
		t.Fatalf("after create: %+v", tl)
	}
	first := tl.Current()
	if want := (Facts{"type": "incident", "state": "new", "priority": "3"}); !reflect.DeepEqual(first, want) {
		t.Fatalf("facts %v, want %v", first, want)
	}
	tl.Fold(Entry{Seq: 11, At: 2000, Action: "record.update", Changes: []Change{{Field: "title", New: "y"}}})
	tl.Fold(Entry{Seq: 12, At: 2000, Action: "record.journal.add", Changes: []Change{{Field: "state", New: "closed"}}})
	tl.Fold(Entry{Seq: 13, At: 2500, Action: "record.update", Changes: []Change{{Field: "priority", New: "3"}}})
	if len(tl.Snapshots) != 1 || tl.Seq != 13 {
		t.Fatalf("untracked, non-applying and unchanged entries added snapshots: %+v", tl)
	}
	tl.Fold(Entry{Seq: 14, At: 3000, Action: "record.transition", Changes: []Change{{Field: "state", New: "in_progress"}}})
	tl.Fold(Entry{Seq: 15, At: 3000, Action: "record.assign", Changes: []Change{{Field: "teamId", New: 4}}})
	tl.Fold(Entry{Seq: 15, At: 9000, Action: "record.update", Changes: []Change{{Field: "priority", New: 1}}})
	if len(tl.Snapshots) != 2 || !reflect.DeepEqual(tl.Current(), Facts{"type": "incident", "state": "in_progress", "priority": "3", "teamId": "4"}) {
		t.Fatalf("same-instant entries: %+v", tl)
	}
	tl.Fold(Entry{Seq: 16, At: 2900, Action: "record.transition", Changes: []Change{{Field: "state", New: "new"}, {Field: "teamId", New: nil}}})
	if len(tl.Snapshots) != 1 || !reflect.DeepEqual(first, Facts{"type": "incident", "state": "new", "priority": "3"}) {
		t.Fatalf("an entry back to the facts before should drop the amended snapshot: %+v (first %v)", tl, first)
	}
	tl.Fold(Entry{Seq: 17, At: 4000, Action: "incident.update", Changes: []Change{{Field: "priority", New: 0}}})
	if got := tl.FactsAt(3999); !reflect.DeepEqual(got, first) {
		t.Fatalf("FactsAt(3999) = %v", got)
	}
	if got := tl.FactsAt(4000); !reflect.DeepEqual(got, Facts{"type": "incident", "state": "new"}) {
		t.Fatalf("FactsAt(4000) = %v", got)
	}
	if got := tl.FactsAt(999); got != nil {
		t.Fatalf("FactsAt before creation = %v", got)
	}
	if !reflect.DeepEqual(first, Facts{"type": "incident", "state": "new", "priority": "3"}) {
		t.Fatalf("a held Facts changed: %v", first)
	}
	if (Timeline{}).Current() != nil {
		t.Fatal("an empty timeline has no current facts")
	}
}

// TestBuildSortsBySeq: Build folds in sequence order whatever the slice order.
func TestBuildSortsBySeq(t *testing.T) {
	t.Parallel()
	es := []Entry{{Seq: 2, At: 20, Action: "record.transition", Changes: []Change{{Field: "state", New: "resolved"}}},
		{Seq: 1, At: 10, Action: "record.create", Changes: []Change{{Field: "state", New: "new"}}}}
	tl := Build(3, "INC3", es)
	if tl.Created != 10 || tl.Seq != 2 || len(tl.Snapshots) != 2 || tl.Current()["state"] != "resolved" || es[0].Seq != 2 {
		t.Fatalf("%+v", tl)
	}
}

// TestCondition checks condition matching.
func TestCondition(t *testing.T) {
	t.Parallel()
	f := Facts{"state": "on_hold", "holdReason": "awaiting_caller", "assigneeId": "4"}
	tests := []struct {
		name string
		c    Condition
		want bool
	}{
		{"empty matches nothing", Condition{}, false},
		{"state", Condition{States: []string{"new", "on_hold"}}, true},
		{"state and field", Condition{States: []string{"on_hold"}, Fields: map[string][]string{"holdReason": {"awaiting_supplier", "awaiting_caller"}}}, true},
		{"field fails", Condition{States: []string{"on_hold"}, Fields: map[string][]string{"holdReason": {"awaiting_change"}}}, false},
		{"absent field matches empty", Condition{Fields: map[string][]string{"teamId": {""}}}, true},
		{"set", Condition{Fields: map[string][]string{"assigneeId": {"*"}}}, true},
		{"unset is not set", Condition{Fields: map[string][]string{"teamId": {"*"}}}, false},
		{"an alternative", Condition{States: []string{"new"}, Any: []Condition{{Fields: map[string][]string{"assigneeId": {"4"}}}}}, true},
		{"no alternative", Condition{States: []string{"new"}, Any: []Condition{{States: []string{"closed"}}, {}}}, false},
	}
	for _, tc := range tests {
		if got := tc.c.Matches(f); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	if !(Condition{}).matchesStart(f) || (Condition{States: []string{"new"}}).matchesStart(f) {
		t.Error("start conditions")
	}
}

// TestSelector checks selector matching.
func TestSelector(t *testing.T) {
	t.Parallel()
	f := Facts{"type": "incident", "serviceId": "12", "priority": "2", "category": "network"}
	tests := []struct {
		name  string
		s     Selector
		teams []int64
		want  bool
	}{
		{"empty matches all", Selector{}, nil, true},
		{"all given", Selector{RecordTypes: []string{"incident"}, ServiceIDs: []int64{3, 12}, Priorities: []int{1, 2},
			Categories: []string{"network"}, CustomerTeams: []int64{8}}, []int64{5, 8}, true},
		{"type", Selector{RecordTypes: []string{"service_request"}}, nil, false},
		{"service", Selector{ServiceIDs: []int64{3}}, nil, false},
		{"priority", Selector{Priorities: []int{1}}, nil, false},
		{"category", Selector{Categories: []string{"software"}}, nil, false},
		{"customer", Selector{CustomerTeams: []int64{8}}, []int64{5}, false},
		{"no service", Selector{ServiceIDs: []int64{3}}, nil, false},
	}
	for _, tc := range tests {
		if got := tc.s.Matches(f, tc.teams); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	if (Selector{Priorities: []int{2}}).Matches(Facts{"type": "incident"}, nil) {
		t.Error("a record without a priority matched a priority list")
	}
	// The logging period: from the first instant of LoggedFrom, up to (not
	// including) LoggedBefore; 0 leaves a side open.
	period := Selector{LoggedFrom: 1000, LoggedBefore: 2000}
	for _, c := range []struct {
		s       Selector
		created int64
		want    bool
	}{{period, 999, false}, {period, 1000, true}, {period, 1999, true}, {period, 2000, false},
		{Selector{LoggedFrom: 1000}, 1 << 50, true}, {Selector{LoggedBefore: 2000}, 0, true}, {Selector{}, 5, true}} {
		if got := c.s.Covers(c.created); got != c.want {
			t.Errorf("%+v covers %d: %v", c.s, c.created, got)
		}
	}
}

// TestDefaultRule: the rule returned is the caller's to change.
func TestDefaultRule(t *testing.T) {
	t.Parallel()
	r := DefaultRule(KindResolution, "incident")
	if !r.Pause.Matches(Facts{"state": "on_hold", "holdReason": "awaiting_change"}) || r.Pause.Matches(Facts{"state": "on_hold"}) ||
		!r.Stop.Matches(Facts{"state": "closed"}) || !r.Cancel.Matches(Facts{"state": "reclassified"}) {
		t.Fatalf("incident resolution %+v", r)
	}
	r.Pause.Fields[FieldHoldReason][0] = "x"
	r.Stop.States[0] = "x"
	if again := DefaultRule(KindResolution, "incident"); again.Pause.Fields[FieldHoldReason][0] != "awaiting_caller" || again.Stop.States[0] != "resolved" {
		t.Fatal("changing a returned rule changed the default")
	}
	req := DefaultRule(KindFulfilment, "service_request")
	if !req.Pause.Matches(Facts{"state": "awaiting_approval"}) || !req.Stop.Matches(Facts{"state": "awaiting_acceptance"}) ||
		!req.Cancel.Matches(Facts{"state": "rejected"}) {
		t.Fatalf("request fulfilment %+v", req)
	}
	resp := DefaultRule(KindResponse, "incident")
	if !resp.Stop.Matches(Facts{"state": "new", "assigneeId": "3"}) || resp.Stop.Matches(Facts{"state": "new", "teamId": "3"}) {
		t.Fatalf("incident response %+v", resp)
	}
	if g := DefaultRule(KindResolution, "problem"); !g.Stop.Matches(Facts{"state": "resolved"}) || !g.Cancel.Matches(Facts{"state": "cancelled"}) {
		t.Fatalf("generic %+v", g)
	}
}

// TestValidateCorrection checks the 422s of a correction.
func TestValidateCorrection(t *testing.T) {
	t.Parallel()
	const created, now = 10_000, 50_000
	tests := []struct {
		name   string
		c      Correction
		fields []string
	}{
		{"valid", Correction{From: 10_000, To: 50_000, Reason: "caller unreachable"}, nil},
		{"before the record existed", Correction{From: 9_999, To: 20_000, Reason: "r"}, []string{"from"}},
		{"empty", Correction{From: 20_000, To: 20_000, Reason: "r"}, []string{"to"}},
		{"backwards", Correction{From: 20_000, To: 15_000, Reason: "r"}, []string{"to"}},
		{"in the future", Correction{From: 20_000, To: 50_001, Reason: "r"}, []string{"to"}},
		{"no reason", Correction{From: 20_000, To: 30_000, Reason: "  "}, []string{"reason"}},
		{"all wrong", Correction{From: 0, To: 0}, []string{"from", "to", "reason"}},
	}
	for _, tc := range tests {
		err := ValidateCorrection(tc.c, created, now)
		if tc.fields == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			t.Fatalf("%s: %v is not Invalid", tc.name, err)
		}
		var got []string
		for _, f := range e.Fields {
			got = append(got, f.Location)
		}
		if !reflect.DeepEqual(got, tc.fields) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.fields)
		}
	}
}

// TestComputeDefaultsRule: a target with no rule uses the record type's default.
func TestComputeDefaultsRule(t *testing.T) {
	t.Parallel()
	tl := history(created("03-09 10:00"), held("03-09 11:00", "awaiting_caller")[0], held("03-09 11:00", "awaiting_caller")[1])
	c := Compute(tl, resolution(time.Hour), always{}, nil, at("03-09 12:00"))
	if c.Status != StatusPaused || c.Elapsed != time.Hour-0 || c.Paused != time.Hour {
		t.Fatalf("%+v", c)
	}
}

// TestScanChanges: the fast reader of audit changes agrees with encoding/json,
// or leaves the entry to it.
func TestScanChanges(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`[]`, ` [ ] `, `[{}]`,
		`[{"field":"state","old":"new","new":"in_progress"}]`,
		` [ { "new" : "on_hold" , "field" : "state" } , {"field":"priority","new":-2,"old":1e0} ] `,
		`[{"field":"title","new":"a \"quoted\" {title} [x]"},{"field":"holdReason","new":"awaiting_caller"}]`,
		`[{"field":"category","new":"r\u00e9seau"}]`,
		`[{"field":"category","new":"réseau"}]`,
		`[{"field":"extra","new":{"a":[1,{"b":"}"}]}},{"field":"teamId","new":0,"old":null}]`,
		`[{"field":"assigneeId","new":12.5},{"field":"path","new":true}]`,
		`[{"field":"state","new":{"a":1}}]`,
		`[{"field":"state","new":"x"},]`,
		`[{"field":"state" "new":"x"}]`,
		`[{"field":"state","new":"x"}] x`,
		`{"field":"state"}`,
	} {
		checkScan(t, []byte(js))
	}
}

// checkScan holds the fast reader of audit changes to encoding/json: what it
// reads, encoding/json reads the same.
func checkScan(t *testing.T, b []byte) {
	t.Helper()
	fast, ok := scanChanges(b)
	if !ok {
		return
	}
	slow, err := decodeChanges(b)
	if err != nil || !reflect.DeepEqual(fast, slow) {
		t.Errorf("%q: fast %#v, encoding/json %#v (%v)", b, fast, slow, err)
	}
}

// FuzzScanChanges: the fast reader never reads what encoding/json reads differently.
func FuzzScanChanges(f *testing.F) {
	for _, s := range []string{`[{"field":"state","old":"new","new":"in_progress"}]`,
		`[{"field":"priority","new":-2,"old":1e0},{"field":"holdReason","new":"awaiting_caller"}]`,
		`[{"field":"title","new":"a \"q\" {t} [x]"},{"field":"category","new":"r\u00e9seau"}]`,
		`[{"field":"extra","new":{"a":[1,{"b":"}"}]}},{"field":"teamId","new":0,"old":null}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkScan(t, b) })
}
