package record

import (
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
)

func sampleType() Type {
	return Type{Name: "ticket", Prefix: "TKT", Process: "IM", Initial: "new",
		States: []State{{Name: "new", Label: "New"}, {Name: "open", Label: "Open"}, {Name: "done", Label: "Done", Terminal: true}},
		Transitions: []Transition{
			{Action: "start", From: []string{"new"}, To: "open", Activity: "IM4", Label: "Start"},
			{Action: "finish", From: []string{"new", "open"}, To: "done", Activity: "IM5", Label: "Finish"},
		}}
}

func TestTypeValidate(t *testing.T) {
	t.Parallel()
	if err := (&Type{}).Validate(); err == nil {
		t.Fatal("empty type is valid")
	}
	ok := sampleType()
	if err := ok.Validate(); err != nil {
		t.Fatalf("sample type: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Type)
		want   string
	}{
		{"bad name", func(t *Type) { t.Name = "Ticket!" }, "type.name"},
		{"bad prefix", func(t *Type) { t.Prefix = "tk1" }, "type.prefix"},
		{"no process", func(t *Type) { t.Process = "" }, "type.process"},
		{"unknown initial", func(t *Type) { t.Initial = "nope" }, "type.initial"},
		{"terminal initial", func(t *Type) { t.Initial = "done" }, "type.initial"},
		{"duplicate state", func(t *Type) { t.States = append(t.States, State{Name: "new"}) }, "type.states[3].name"},
		{"unknown target", func(t *Type) { t.Transitions[0].To = "elsewhere" }, "type.transitions[0].to"},
		{"unknown source", func(t *Type) { t.Transitions[0].From = []string{"elsewhere"} }, "type.transitions[0].from"},
		{"no source", func(t *Type) { t.Transitions[0].From = nil }, "type.transitions[0].from"},
		{"no activity", func(t *Type) { t.Transitions[0].Activity = "" }, "type.transitions[0].activity"},
		{"out of terminal", func(t *Type) {
			t.Transitions = append(t.Transitions, Transition{Action: "reopen", From: []string{"done"}, To: "open", Activity: "IM4"})
		}, "type.transitions[2].from"},
		{"action twice from a state", func(t *Type) {
			t.Transitions = append(t.Transitions, Transition{Action: "start", From: []string{"new"}, To: "done", Activity: "IM4"})
		}, "type.transitions[2].from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ty := sampleType()
			ty.Transitions = slices.Clone(ty.Transitions)
			c.change(&ty)
			e, ok := errs.As(ty.Validate())
			if !ok || e.Kind != errs.Invalid {
				t.Fatalf("got %v, want an invalid error", e)
			}
			if !slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Location == c.want }) {
				t.Fatalf("fields %+v do not name %s", e.Fields, c.want)
			}
		})
	}
}

func TestTypeNext(t *testing.T) {
	t.Parallel()
	ty := sampleType()
	tr, err := ty.Next("open", "finish")
	if err != nil || tr.To != "done" || tr.Activity != "IM5" {
		t.Fatalf("finish from open: %+v, %v", tr, err)
	}
	_, err = ty.Next("open", "start")
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "allowed from open: finish") {
		t.Fatalf("start from open: %v", err)
	}
	_, err = ty.Next("done", "finish")
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "none") {
		t.Fatalf("finish from done: %v", err)
	}
	_, err = ty.Next("new", "explode")
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "start, finish") {
		t.Fatalf("unknown action: %v", err)
	}
	if got := ty.Activities(); !slices.Equal(got, []string{"IM4", "IM5"}) {
		t.Fatalf("activities = %v", got)
	}
}

func TestFormatNumberAndPrefix(t *testing.T) {
	t.Parallel()
	if got := FormatNumber("INC", 42); got != "INC0000042" {
		t.Fatalf("got %s", got)
	}
	if got := FormatNumber("INC", 123456789); got != "INC123456789" {
		t.Fatalf("got %s", got)
	}
	for _, p := range []string{"", "I", "inc", "INC1", "ABCDEFGHI", "IN C"} {
		if ValidatePrefix("p", p) == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	for _, p := range []string{"IN", "INC", "ABCDEFGH"} {
		if err := ValidatePrefix("p", p); err != nil {
			t.Errorf("prefix %q refused: %v", p, err)
		}
	}
	if NormalizeNumber(" inc0000001 ") != "INC0000001" {
		t.Fatal("number not normalised")
	}
}

func TestValidateFields(t *testing.T) {
	t.Parallel()
	r := Record{Title: "  Printer on fire ", Priority: 3}
	if err := validateFields(&r); err != nil || r.Title != "Printer on fire" || r.Marking != DefaultMarking {
		t.Fatalf("%+v, %v", r, err)
	}
	for _, bad := range []Record{{Title: " "}, {Title: strings.Repeat("x", 201)}, {Title: "x", Priority: 6}, {Title: "x", Priority: -1},
		{Title: "x", Marking: "secret<script>"}, {Title: "x", ServiceID: -1}} {
		if validateFields(&bad) == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestCanonicalLink(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     LinkType
		a, b     int64
		stored   LinkType
		from, to int64
	}{
		{ParentOf, 1, 2, ParentOf, 1, 2},
		{ChildOf, 1, 2, ParentOf, 2, 1},
		{Causes, 5, 3, CausedBy, 3, 5},
		{CausedBy, 5, 3, CausedBy, 5, 3},
		{DuplicatedBy, 1, 9, DuplicateOf, 9, 1},
		{RelatedTo, 9, 1, RelatedTo, 1, 9},
		{RelatedTo, 1, 9, RelatedTo, 1, 9},
		{Resolves, 4, 7, ResolvedBy, 7, 4},
	}
	for _, c := range cases {
		s, f, to, err := canonicalLink(c.name, c.a, c.b)
		if err != nil || s != c.stored || f != c.from || to != c.to {
			t.Errorf("%d %s %d = %s %d→%d, %v", c.a, c.name, c.b, s, f, to, err)
		}
		if c.name.Inverse().Inverse() != c.name {
			t.Errorf("inverse of inverse of %s", c.name)
		}
	}
	if _, _, _, err := canonicalLink(ParentOf, 3, 3); !errs.Is(err, errs.Invalid) {
		t.Fatalf("self link: %v", err)
	}
	if _, _, _, err := canonicalLink("blocks", 1, 2); !errs.Is(err, errs.Invalid) {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestSearchTermsDropEverySyntax(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		`"`:                     nil,
		`*`:                     nil,
		`NEAR(`:                 {"near"},
		`-`:                     nil,
		`OR`:                    {"or"},
		`)`:                     nil,
		`printer OR "fire*"`:    {"printer", "or", "fire"},
		`title:secret`:          {"title", "secret"},
		`a' & !b | c <-> d:*`:   {"a", "b", "c", "d"},
		`INC0000001`:            {"inc0000001"},
		`Café crème`:            {"café", "crème"},
		`^start NOT {x y}`:      {"start", "not", "x", "y"},
		"tab\tand\nnewline\x00": {"tab", "and", "newline"},
	}
	for in, want := range cases {
		if got := searchTerms(in); !slices.Equal(got, want) {
			t.Errorf("searchTerms(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len(searchTerms(strings.Repeat("word ", 100))); n != maxTerms {
		t.Fatalf("%d terms", n)
	}
	if got := searchTerms(strings.Repeat("x", 500)); len(got[0]) != maxTermLen {
		t.Fatalf("term of %d", len(got[0]))
	}
	if got := ftsQuery([]string{"near", "or"}); got != `"near"* "or"*` {
		t.Fatalf("fts query %s", got)
	}
	if got := tsQuery([]string{"near", "or"}); got != `'near':* & 'or':*` {
		t.Fatalf("ts query %s", got)
	}
}

func TestCleanFileName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"report.pdf":             "report.pdf",
		"../../etc/passwd":       "passwd",
		`C:\Users\x\evil.exe`:    "evil.exe",
		"":                       "attachment",
		"..":                     "attachment",
		"a\x00b\r\nc.txt":        "abc.txt",
		`quote".txt`:             "quote.txt",
		strings.Repeat("é", 200): strings.Repeat("é", 127),
	}
	for in, want := range cases {
		if got := cleanFileName(in); got != want {
			t.Errorf("cleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsExecutable(t *testing.T) {
	t.Parallel()
	for _, b := range [][]byte{[]byte("MZ\x90\x00"), []byte("\x7fELF\x02"), {0xcf, 0xfa, 0xed, 0xfe, 7}} {
		if !isExecutable(b) {
			t.Errorf("%q not recognised", b)
		}
	}
	for _, b := range [][]byte{[]byte("%PDF-1.7"), []byte("hello"), {}} {
		if isExecutable(b) {
			t.Errorf("%q taken for an executable", b)
		}
	}
}

func TestVisibilityRules(t *testing.T) {
	t.Parallel()
	r := &Record{RequesterID: 1, AssigneeID: 2, TeamID: 7}
	requester := &auth.Principal{UserID: 1}
	agent := &auth.Principal{UserID: 3}
	admin := &auth.Principal{UserID: 1, Admin: true}
	if seesInternal(requester, r, false) || !seesInternal(requester, r, true) || !seesInternal(agent, r, false) ||
		!seesInternal(admin, r, false) || seesInternal(nil, r, true) {
		t.Fatal("seesInternal")
	}
	if !mayManageWatchers(agent, r, 3, false) || mayManageWatchers(agent, r, 1, false) || !mayManageWatchers(agent, r, 1, true) ||
		!mayManageWatchers(&auth.Principal{UserID: 2}, r, 1, false) {
		t.Fatal("mayManageWatchers")
	}
	if reassigned(&Record{}, 1, 2) || !reassigned(&Record{TeamID: 1}, 2, 0) || !reassigned(&Record{AssigneeID: 1}, 0, 2) ||
		reassigned(&Record{TeamID: 1}, 1, 5) {
		t.Fatal("reassigned")
	}
}

func TestRefusalNamesActivityAndRoles(t *testing.T) {
	t.Parallel()
	d := raci.Decision{Activity: "IM5", ActivityName: "Resolve and Recover Incident", Performers: []raci.RoleRef{
		{Name: "Incident Analyst", Letters: "R"}, {Name: "Incident Manager", Letters: "A/R"}, {Name: "Service Owner", Letters: "I/C"}}}
	msg := refusal("resolve", "INC0000001", "IM5", d).Error()
	for _, want := range []string{"IM5", "Resolve and Recover Incident", "Incident Analyst (R)", "Incident Manager (A/R)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "Service Owner") {
		t.Errorf("%q names a role without R or A", msg)
	}
	if !errs.Is(refusal("resolve", "X", "IM5", d), errs.Forbidden) {
		t.Fatal("refusal is not Forbidden")
	}
	if msg := refusal("resolve", "X", "IM5", raci.Decision{}).Error(); !strings.Contains(msg, "no role holds R or A") {
		t.Fatal(msg)
	}
}

// TestClosedStateMayBeLeft checks a closed (not terminal) state: a record in
// it counts as closed, yet the type may declare a step out of it.
func TestClosedStateMayBeLeft(t *testing.T) {
	typ := Type{Name: "ticket", Label: "Ticket", Prefix: "TKT", Process: "IM", Initial: "open",
		States: []State{{Name: "open", Label: "Open"}, {Name: "closed", Label: "Closed", Closed: true}},
		Transitions: []Transition{
			{Action: "close", From: []string{"open"}, To: "closed", Activity: "IM6", Label: "Close"},
			{Action: "reopen", From: []string{"closed"}, To: "open", Activity: "IM6", Label: "Reopen"}}}
	if err := typ.Validate(); err != nil {
		t.Fatalf("a step out of a closed state is refused: %v", err)
	}
	if s, _ := typ.State("closed"); !s.closes() {
		t.Fatal("a closed state does not close the record")
	}
	typ.States[1].Terminal = true
	if err := typ.Validate(); err == nil {
		t.Fatal("a state both terminal and closed was accepted")
	}
	typ.States[1].Terminal = false
	typ.Initial = "closed"
	if err := typ.Validate(); err == nil {
		t.Fatal("a closed initial state was accepted")
	}
}
