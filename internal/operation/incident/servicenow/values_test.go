package servicenow

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestParseTime covers every date format accepted, the date orders, zones and the errors.
func TestParseTime(t *testing.T) {
	t.Parallel()
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in    string
		loc   *time.Location
		order DateOrder
		want  time.Time
		err   string // part of the error, "" for none
	}{
		{in: "29-02-2016 01:16", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "  29-02-2016 01:16  ", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "29-02-2016 01:16:07", want: utc(2016, 2, 29, 1, 16, 7)},
		{in: "29/02/2016 1:16", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "29.02.2016 01:16", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "05-03-2016 12:00", want: utc(2016, 3, 5, 12, 0, 0)},                    // ambiguous: day first by default
		{in: "05-03-2016 12:00", order: DayFirst, want: utc(2016, 3, 5, 12, 0, 0)},   // day first
		{in: "05-03-2016 12:00", order: MonthFirst, want: utc(2016, 5, 3, 12, 0, 0)}, // month first
		{in: "02/29/2016 01:16", want: utc(2016, 2, 29, 1, 16, 0)},                   // a month above 12 decides
		{in: "02/29/2016 01:16", order: MonthFirst, want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "02/29/2016 01:16", order: DayFirst, err: "month first, but the file's dates are day first"},
		{in: "29/02/2016 01:16", order: MonthFirst, err: "day first, but the file's dates are month first"},
		{in: "02/29/2016 1:16 PM", want: utc(2016, 2, 29, 13, 16, 0)},
		{in: "02/29/2016 12:05 am", want: utc(2016, 2, 29, 0, 5, 0)},
		{in: "02/29/2016 12:05 PM", want: utc(2016, 2, 29, 12, 5, 0)},
		{in: "2016-02-29 01:16:00", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-29 01:16", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-29T01:16:00Z", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-29T01:16Z", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-29T01:16:00.250Z", want: utc(2016, 2, 29, 1, 16, 0).Add(250 * time.Millisecond)},
		{in: "2016-02-29T02:16:00+01:00", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-28T20:16:00-0500", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-29 01:16:00 UTC", loc: paris, want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016/02/29 01:16", want: utc(2016, 2, 29, 1, 16, 0)},
		{in: "2016-02-29", want: utc(2016, 2, 29, 0, 0, 0)},
		{in: "29-02-2016", want: utc(2016, 2, 29, 0, 0, 0)},
		{in: "29-02-2016 02:16", loc: paris, want: utc(2016, 2, 29, 1, 16, 0)}, // local time in the given zone
		{in: "2016-07-01 02:16", loc: paris, want: utc(2016, 7, 1, 0, 16, 0)},  // summer time
		{in: "?", want: time.Time{}},
		{in: "", want: time.Time{}},
		{in: " ? ", want: time.Time{}},
		{in: "29-02-2015 01:16", err: "no such day"},
		{in: "31-04-2016 01:16", err: "no such day"},
		{in: "13-13-2016 01:16", err: "neither part can be the month"},
		{in: "29-02-16 01:16", err: "four digits"},
		{in: "29-02-2016 24:00", err: "out of range"},
		{in: "29-02-2016 01:60", err: "out of range"},
		{in: "29-02-2016 13:16 PM", err: "AM/PM"},
		{in: "29-02-2016 01:16 tomorrow", err: "unknown text"},
		{in: "29-02-2016 1", err: "not a time"},
		{in: "29-02-2016 01:6", err: "not a time"},
		{in: "29-02/2016 01:16", err: "not a date"},
		{in: "2016-02-29T", err: "no time after T"},
		{in: "2016-02-29T01:16:00+25:00", err: "unknown text"},
		{in: "0000-01-01 00:00", err: "year out of range"},
		{in: "yesterday", err: "not a date"},
		{in: "29-00-2016 01:16", err: "month out of range"},
	}
	for _, tt := range tests {
		loc := tt.loc
		if loc == nil {
			loc = time.UTC
		}
		got, err := parseTime(tt.in, loc, tt.order)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseTime(%q, %s) error = %v, want one containing %q", tt.in, tt.order, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseTime(%q, %s): %v", tt.in, tt.order, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q, %s) = %v, want %v UTC", tt.in, tt.order, got, tt.want)
		}
	}
}

// TestDateEvidence checks which dates prove day-first or month-first order.
func TestDateEvidence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want DateOrder
	}{
		{"29-02-2016 01:16", DayFirst},
		{"13/01/2016", DayFirst},
		{"02/29/2016 01:16", MonthFirst},
		{"01-13-2016", MonthFirst},
		{"05-03-2016 12:00", DateOrderAuto},
		{"12-12-2016", DateOrderAuto},
		{"13-13-2016", DateOrderAuto},
		{"2016-02-29 01:16", DateOrderAuto}, // year first proves nothing about the others
		{"2016-02-29T01:16:00Z", DateOrderAuto},
		{"?", DateOrderAuto},
		{"", DateOrderAuto},
		{"29-00-2016", DateOrderAuto},
	}
	for _, tt := range tests {
		if got := dateEvidence(tt.in); got != tt.want {
			t.Errorf("dateEvidence(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestParseBool covers every spelling of true, false and empty.
func TestParseBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                string
		want, present, ok bool
	}{
		{"TRUE", true, true, true},
		{"FALSE", false, true, true},
		{"true", true, true, true},
		{"false", false, true, true},
		{"True", true, true, true},
		{"1", true, true, true},
		{"0", false, true, true},
		{"yes", true, true, true},
		{"no", false, true, true},
		{"Y", true, true, true},
		{"n", false, true, true},
		{"t", true, true, true},
		{"F", false, true, true},
		{"on", true, true, true},
		{"off", false, true, true},
		{" TRUE ", true, true, true},
		{"?", false, false, true},
		{"", false, false, true},
		{"2", false, false, false},
		{"maybe", false, false, false},
		{"-1", false, false, false},
	}
	for _, tt := range tests {
		got, present, err := parseBool(tt.in)
		if (err == nil) != tt.ok || got != tt.want || present != tt.present {
			t.Errorf("parseBool(%q) = %v, %v, %v; want %v, %v, ok %v", tt.in, got, present, err, tt.want, tt.present, tt.ok)
		}
	}
}

// TestParseCount covers counts, empty values and the ones refused.
func TestParseCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		want        int
		present, ok bool
	}{
		{"0", 0, true, true},
		{"7", 7, true, true},
		{" 12 ", 12, true, true},
		{"1000000000", 1_000_000_000, true, true},
		{"?", 0, false, true},
		{"", 0, false, true},
		{"-1", 0, false, false},
		{"1.5", 0, false, false},
		{"two", 0, false, false},
		{"1000000001", 0, false, false},
		{"99999999999999999999", 0, false, false},
	}
	for _, tt := range tests {
		got, present, err := parseCount(tt.in)
		if (err == nil) != tt.ok || got != tt.want || present != tt.present {
			t.Errorf("parseCount(%q) = %d, %v, %v; want %d, %v, ok %v", tt.in, got, present, err, tt.want, tt.present, tt.ok)
		}
	}
}

// TestParseLevel covers impact, urgency and priority as "2 - Medium", "2" and "Medium".
func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		priority bool // priority scale (1..5) rather than impact/urgency (1..3)
		want     int
		ok       bool
	}{
		{"1 - High", false, 1, true},
		{"2 - Medium", false, 2, true},
		{"3 - Low", false, 3, true},
		{"2", false, 2, true},
		{"2-Medium", false, 2, true},
		{"High", false, 1, true},
		{"medium", false, 2, true},
		{"Moderate", false, 2, true},
		{"LOW", false, 3, true},
		{"Critical", false, 1, true},
		{"Planning", false, 3, true},
		{"?", false, 0, true},
		{"", false, 0, true},
		{"4 - Low", false, 0, false},
		{"0", false, 0, false},
		{"Urgent", false, 0, false},
		{"2 Medium", false, 0, false},
		{"1 - Critical", true, 1, true},
		{"2 - High", true, 2, true},
		{"3 - Moderate", true, 3, true},
		{"4 - Low", true, 4, true},
		{"5 - Planning", true, 5, true},
		{"4", true, 4, true},
		{"Critical", true, 1, true},
		{"High", true, 2, true},
		{"Moderate", true, 3, true},
		{"Medium", true, 3, true},
		{"Low", true, 4, true},
		{"Planning", true, 5, true},
		{"6 - Whenever", true, 0, false},
		{"100", true, 0, false},
	}
	for _, tt := range tests {
		sc := levelScale
		if tt.priority {
			sc = priorityScale
		}
		got, err := parseLevel(tt.in, sc)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseLevel(%q, priority %v) = %d, %v; want %d, ok %v", tt.in, tt.priority, got, err, tt.want, tt.ok)
		}
	}
}

// TestMapState covers the state table, "-100" and unknown states.
func TestMapState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		want        string
		noState, ok bool
	}{
		{"New", StateNew, false, true},
		{"Active", StateInProgress, false, true},
		{"In Progress", StateInProgress, false, true},
		{"Awaiting User Info", StateOnHold, false, true},
		{"awaiting  user info", StateOnHold, false, true},
		{"Awaiting Problem", StateOnHold, false, true},
		{"Awaiting Vendor", StateOnHold, false, true},
		{"Awaiting Evidence", StateOnHold, false, true},
		{"On Hold", StateOnHold, false, true},
		{"Resolved", StateResolved, false, true},
		{"Closed", StateClosed, false, true},
		{"CLOSED", StateClosed, false, true},
		{"Canceled", StateCancelled, false, true},
		{"Cancelled", StateCancelled, false, true},
		{"1", StateNew, false, true},
		{"2", StateInProgress, false, true},
		{"3", StateOnHold, false, true},
		{"6", StateResolved, false, true},
		{"7", StateClosed, false, true},
		{"8", StateCancelled, false, true},
		{"-100", "", true, false},
		{" -100 ", "", true, false},
		{"Frozen", "", false, false},
		{"", "", false, false},
	}
	for _, tt := range tests {
		got, noState, ok := mapState(tt.in)
		if got != tt.want || noState != tt.noState || ok != tt.ok {
			t.Errorf("mapState(%q) = %q, %v, %v; want %q, %v, %v", tt.in, got, noState, ok, tt.want, tt.noState, tt.ok)
		}
	}
}

// TestMapChannel covers the contact types mapped to Steward channels.
func TestMapChannel(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Phone", ChannelPhone},
		{"phone", ChannelPhone},
		{"IVR", ChannelPhone},
		{"Email", ChannelEmail},
		{"E-mail", ChannelEmail},
		{"Self service", ChannelPortal},
		{"Self-Service", ChannelPortal},
		{"self_service", ChannelPortal},
		{"Direct opt-in", ChannelDesk},
		{"Walk-in", ChannelWalkIn},
		{"Chat", ChannelChat},
		{"Virtual Agent", ChannelChat},
		{"Alert", ChannelEvent},
		{"Monitoring", ChannelEvent},
		{"Integration", ChannelAPI},
		{"", ChannelImport},
		{"Carrier pigeon", ChannelImport},
	}
	for _, tt := range tests {
		if got := mapChannel(tt.in); got != tt.want {
			t.Errorf("mapChannel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTaxonomyKey checks that labels become valid, distinct taxonomy keys.
func TestTaxonomyKey(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	long := strings.Repeat("Network ", 10)
	tests := []struct{ in, want string }{
		{"Category 55", "category-55"},
		{"Subcategory 170", "subcategory-170"},
		{"Symptom 72", "symptom-72"},
		{"  Network / DNS  ", "network-dns"},
		{"E-mail & Calendar", "e-mail-calendar"},
		{"Réseau sécurisé", "reseau-securise"},
		{"Straße", "strasse"},
		{"?", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := taxonomyKey(tt.in); got != tt.want {
			t.Errorf("taxonomyKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{long, long + "x", "网络", "!!!", "-a-", strings.Repeat("é", 100)} {
		k := taxonomyKey(in)
		if !valid.MatchString(k) {
			t.Errorf("taxonomyKey(%q) = %q, not a valid key", in, k)
		}
	}
	if taxonomyKey(long) == taxonomyKey(long+"x") {
		t.Errorf("two long labels share the key %q", taxonomyKey(long))
	}
	if taxonomyKey("网络") == taxonomyKey("网站") {
		t.Errorf("two labels without ASCII letters share a key")
	}
}

// TestCleanText checks trimming, "?" and the text refused.
func TestCleanText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Caller 2403", "Caller 2403", true},
		{"  Opened by  8 ", "Opened by  8", true},
		{"?", "", true},
		{"", "", true},
		{"Zoë", "Zoë", true},
		{"a\x00b", "", false},
		{"\xff\xfe", "", false},
	}
	for _, tt := range tests {
		got, err := cleanText(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("cleanText(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestNormalizeHeader checks how header cells are matched to column names.
func TestNormalizeHeader(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"number", "number"},
		{" Number ", "number"},
		{"\ufeffnumber", "number"},
		{"INCIDENT_STATE", "incident_state"},
		{"Incident State", "incident_state"},
		{"sys-updated-at", "sys_updated_at"},
	}
	for _, tt := range tests {
		if got := normalizeHeader(tt.in); got != tt.want {
			t.Errorf("normalizeHeader(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
