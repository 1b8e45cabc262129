package problem_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"steward/internal/operation/problem"
)

func TestTerms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"DNS timeout when I open the portal; DNS again!", []string{"dns", "timeout", "open", "portal"}},
		{"Error 0x80070005 on SRV-42", []string{"error", "0x80070005", "srv", "42"}},
		{`"quoted" OR col:filter NEAR(x)`, []string{"quoted", "col", "filter", "near"}},
		{"a I the of", nil},
		{"Résumé café", []string{"résumé", "café"}},
	} {
		if got := problem.Terms(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	long := strings.Repeat("word", 30)
	if got := problem.Terms(long); len(got) != 1 || len([]rune(got[0])) != 40 {
		t.Errorf("a long word: %v", got)
	}
	var many []string
	for i := range 100 {
		many = append(many, "w"+strings.Repeat("x", i%50)+string(rune('a'+i%26)))
	}
	if got := problem.Terms(strings.Join(many, " ")); len(got) != 40 {
		t.Errorf("terms of a long text: %d", len(got))
	}
}

func TestStem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"timeouts": "timeout", "failing": "fail", "failed": "fail", "queries": "query",
		"process": "process", "processes": "process", "dns": "dns", "logs": "logs", "printers": "printer"} {
		if got := problem.Stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchScore(t *testing.T) {
	t.Parallel()
	ke := problem.Candidate{Title: "DNS resolution timeouts on the VPN", Symptoms: "Web pages fail to load after connecting",
		Workaround: "Flush the resolver cache", CIID: 7, ServiceID: 3, Category: "network", Subcategory: "dns"}
	for _, tc := range []struct {
		name  string
		q     problem.KnownErrorQuery
		score float64
		why   []string
	}{
		{"everything", problem.KnownErrorQuery{Text: "VPN DNS timeout", CIID: 7, ServiceID: 3, Category: "network", Subcategory: "dns"},
			1.197, []string{"same CI", "same service", "same category", "same subcategory", "words: vpn, dns, timeout"}},
		{"same CI only", problem.KnownErrorQuery{CIID: 7}, 0.35, []string{"same CI"}},
		{"same category only", problem.KnownErrorQuery{Category: "network"}, 0.15, []string{"same category"}},
		{"subcategory needs the category", problem.KnownErrorQuery{Category: "hardware", Subcategory: "dns"}, 0, nil},
		{"one title word", problem.KnownErrorQuery{Text: "vpn is slow"}, 0.264, []string{"words: vpn"}},
		{"a symptom and a workaround word", problem.KnownErrorQuery{Text: "pages won't load; tried flushing"},
			0.357, []string{"words: pages, load, flushing"}},
		{"prefix of a word", problem.KnownErrorQuery{Text: "resolut"}, 0.264, []string{"words: resolut"}},
		{"prefix in the workaround", problem.KnownErrorQuery{Text: "resolv"}, 0.111, []string{"words: resolv"}},
		{"short prefix is no hit", problem.KnownErrorQuery{Text: "re"}, 0, nil},
		{"nothing in common", problem.KnownErrorQuery{Text: "printer jammed", CIID: 8, ServiceID: 4, Category: "hardware"}, 0, nil},
	} {
		score, why := problem.MatchScore(tc.q, problem.Terms(tc.q.Text), ke)
		if score != tc.score || !slices.Equal(why, tc.why) {
			t.Errorf("%s: %v %q, want %v %q", tc.name, score, why, tc.score, tc.why)
		}
	}
	// A known error without a category never matches an incident's missing one.
	if score, _ := problem.MatchScore(problem.KnownErrorQuery{}, nil, problem.Candidate{}); score != 0 {
		t.Errorf("empty against empty: %v", score)
	}
}

func TestInformativeTerms(t *testing.T) {
	t.Parallel()
	terms := []string{"user", "outlook", "crashes", "0x80070005", "attachment", "please"}
	for _, tc := range []struct {
		name           string
		df             []int64
		published      int64
		scored, search []string
	}{
		{"a large KEDB", []int64{4000, 150, 900, 0, 60, 9000}, 10000,
			[]string{"outlook", "0x80070005", "attachment"}, []string{"attachment", "outlook"}},
		{"the budget always takes the rarest", []int64{4000, 450, 900, 0, 400, 9000}, 10000,
			[]string{"outlook", "0x80070005", "attachment"}, []string{"attachment"}},
		{"a word in 500 is common anyway", []int64{500, 499, 1, 1, 1, 1}, 100000,
			[]string{"outlook", "crashes", "0x80070005", "attachment", "please"},
			[]string{"crashes", "0x80070005", "attachment", "please", "outlook"}},
		{"a small KEDB counts every word", []int64{3, 1, 2, 0, 1, 5}, 4,
			[]string{"user", "outlook", "crashes", "0x80070005", "attachment", "please"},
			[]string{"outlook", "attachment", "crashes", "user", "please"}},
		{"a fifth of a hundred", []int64{21, 20, 0, 0, 0, 0}, 100,
			[]string{"outlook", "crashes", "0x80070005", "attachment", "please"}, []string{"outlook"}},
		{"nothing known", nil, 0, nil, nil},
	} {
		scored, search := problem.InformativeTerms(terms, tc.df, tc.published)
		if !slices.Equal(scored, tc.scored) || !slices.Equal(search, tc.search) {
			t.Errorf("%s: scored %v search %v, want %v and %v", tc.name, scored, search, tc.scored, tc.search)
		}
	}
}

func TestWordsOf(t *testing.T) {
	t.Parallel()
	got := problem.WordsOf("VPN timeouts", "The VPN times out; DNS timeout", "")
	if !slices.Equal(got, []string{"dns", "time", "timeout", "vpn"}) {
		t.Errorf("WordsOf: %v", got)
	}
}

// FuzzTerms holds Terms to what the full-text queries rely on: words of
// letters, digits and marks only, 2 to 40 characters, distinct, at most 40.
func FuzzTerms(f *testing.F) {
	for _, s := range []string{"DNS timeout", `"a" OR b* NEAR(c) col:d`, "Résumé ERR_CERT 0x80070005", "\x00\xff'\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		terms := problem.Terms(s)
		if len(terms) > 40 {
			t.Fatalf("%d terms", len(terms))
		}
		seen := map[string]bool{}
		for _, w := range terms {
			n := utf8.RuneCountInString(w)
			if n < 2 || n > 40 || seen[w] || strings.ContainsFunc(w, func(r rune) bool {
				return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
			}) {
				t.Fatalf("term %q of %q", w, s)
			}
			seen[w] = true
		}
	})
}
