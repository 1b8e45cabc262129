package problem

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// KnownErrorQuery is what an incident offers to be matched against the
// published known errors (IM4): its text, CI, service and category.
type KnownErrorQuery struct {
	// Text is the incident's title and description.
	Text        string
	CIID        int64
	ServiceID   int64
	Category    string
	Subcategory string
	// Limit is how many matches to return: DefaultMatchLimit when 0, at most MaxMatchLimit.
	Limit int
}

// KnownErrorMatch is a published known error offered for an incident, with why.
type KnownErrorMatch struct {
	Number     string  `json:"number"`
	Title      string  `json:"title"`
	Workaround string  `json:"workaround"`
	Problem    string  `json:"problem,omitempty"`
	Score      float64 `json:"score"`
	// Why lists the reasons: "same CI", "same service", "same category",
	// "same subcategory", "words: dns, timeout".
	Why []string `json:"why"`
}

// Limits of matching.
const (
	DefaultMatchLimit = 5
	MaxMatchLimit     = 50
	// maxQueryTerms bounds the words of an incident's text that are matched.
	maxQueryTerms = 40
	maxTermLen    = 40
	// candidateLimit bounds the known errors each way of finding candidates reads.
	candidateLimit = 100
	// commonAt is how many known errors make a word common whatever the size of the KEDB.
	commonAt = 500
	// minCommon is the fewest occurrences that may make a word common in a small KEDB.
	minCommon = 5
	// maxSearchTerms bounds the words the full-text search looks for: the
	// rarest, while the known errors holding them add up to at most
	// searchBudget (the rarest one is always looked for).
	maxSearchTerms = 8
	searchBudget   = 600
	// maxWhyWords bounds the words a match lists as its reason.
	maxWhyWords = 8
)

// The weights of MatchScore. A known error needs MinScore to be offered: the
// same category alone (0.15), the same service alone or one word of its
// symptoms is too weak a hint; the same CI, the same category and
// subcategory, or one word of its title is enough.
const (
	WeightCI          = 0.35
	WeightService     = 0.15
	WeightCategory    = 0.15
	WeightSubcategory = 0.10
	// WeightText is approached as the incident's words are found: a word in
	// the title counts 3, in the symptoms 2, in the workaround 1, and the text
	// scores WeightText × (1 − e^(−hits/textScale)), so every further word
	// still counts, less and less. One title word scores 0.264, three 0.447.
	WeightText = 0.5
	textScale  = 4.0
	MinScore   = 0.2
)

// stopWords are English words too common to say anything about a known error.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about after again all also am an and any are as at be been before being but by can
		cannot could did do does doing for from get gets got had has have having he her here him his how i if in into is it its
		just me more my no not now of off on once only or other our out over own same she should so some still such than that
		the their them then there these they this those through to too under until up very was we were what when where which
		while who why will with would you your please hi hello thanks thank regards`) {
		m[w] = true
	}
	return m
}()

// Terms are the distinct words of a text worth matching, lower-case, in order
// of appearance, without stop words and one-letter words, at most maxQueryTerms.
// They hold only letters, digits and marks, so they can be quoted safely for
// either full-text engine.
func Terms(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
	var out []string
	for _, w := range words {
		if utf8.RuneCountInString(w) > maxTermLen {
			w = string([]rune(w)[:maxTermLen])
		}
		if utf8.RuneCountInString(w) < 2 || stopWords[w] || slices.Contains(out, w) {
			continue
		}
		out = append(out, w)
		if len(out) == maxQueryTerms {
			break
		}
	}
	return out
}

// WordsOf is the sorted distinct stems of the words of texts worth matching
// (as Terms keeps them), as a known error's words are stored.
func WordsOf(texts ...string) []string {
	set := map[string]bool{}
	for _, text := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
		}) {
			if utf8.RuneCountInString(w) > maxTermLen {
				w = string([]rune(w)[:maxTermLen])
			}
			if utf8.RuneCountInString(w) >= 2 && !stopWords[w] {
				set[stem(w)] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// stem strips the common English inflections of a lower-case word, so that
// "timeouts", "failing" and "failed" meet "timeout" and "fail".
func stem(w string) string {
	if utf8.RuneCountInString(w) <= 4 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies"):
		return strings.TrimSuffix(w, "ies") + "y"
	case strings.HasSuffix(w, "ing"):
		return strings.TrimSuffix(w, "ing")
	case strings.HasSuffix(w, "ed"):
		return strings.TrimSuffix(w, "ed")
	case strings.HasSuffix(w, "es") && strings.HasSuffix(strings.TrimSuffix(w, "es"), "ss"):
		return strings.TrimSuffix(w, "es")
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return strings.TrimSuffix(w, "s")
	}
	return w
}

// words maps the stem of every word of a candidate to the weight of the
// field it is found in: 3 in the title, 2 in the symptoms, 1 in the workaround.
func words(c Candidate) map[string]float64 {
	m := map[string]float64{}
	add := func(text string, w float64) {
		for _, word := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
		}) {
			if s := stem(word); m[s] < w {
				m[s] = w
			}
		}
	}
	add(c.Workaround, 1)
	add(c.Symptoms, 2)
	add(c.Title, 3)
	return m
}

// hit is the weight of the best field a query word meets a word of: the same
// stem, or (for words of four letters or more) a word it begins, as the
// full-text engines' prefix queries do; 0 when it meets none.
func hit(term string, ws map[string]float64) float64 {
	s := stem(term)
	w := ws[s]
	if w == 3 || utf8.RuneCountInString(s) < 4 {
		return w
	}
	for word, v := range ws {
		if v > w && strings.HasPrefix(word, s) {
			w = v
		}
	}
	return w
}

// Candidate is a published known error as MatchScore sees it.
type Candidate struct {
	Title       string
	Symptoms    string
	Workaround  string
	CIID        int64
	ServiceID   int64
	Category    string
	Subcategory string
}

// MatchScore scores a known error for an incident: the same CI, service,
// category and subcategory (with the same category) each add their weight,
// and the incident's words found in the title (3), symptoms (2) or workaround
// (1) add up towards WeightText. It returns the score, rounded to three decimals,
// and the reasons in that order (CI, service, category, subcategory, words).
// terms are the incident's words worth scoring: its Terms less the common
// ones (see InformativeTerms).
func MatchScore(q KnownErrorQuery, terms []string, c Candidate) (float64, []string) {
	var score float64
	var why []string
	if q.CIID != 0 && q.CIID == c.CIID {
		score += WeightCI
		why = append(why, "same CI")
	}
	if q.ServiceID != 0 && q.ServiceID == c.ServiceID {
		score += WeightService
		why = append(why, "same service")
	}
	if q.Category != "" && q.Category == c.Category {
		score += WeightCategory
		why = append(why, "same category")
		if q.Subcategory != "" && q.Subcategory == c.Subcategory {
			score += WeightSubcategory
			why = append(why, "same subcategory")
		}
	}
	if len(terms) > 0 {
		ws := words(c)
		var weight float64
		var found []string
		for _, t := range terms {
			if w := hit(t, ws); w > 0 {
				weight += w
				if len(found) < maxWhyWords {
					found = append(found, t)
				}
			}
		}
		if weight > 0 {
			score += WeightText * (1 - math.Exp(-weight/textScale))
			why = append(why, "words: "+strings.Join(found, ", "))
		}
	}
	return math.Round(score*1000) / 1000, why
}

// clampLimit is the number of matches to return for a query's limit.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultMatchLimit
	case n > MaxMatchLimit:
		return MaxMatchLimit
	}
	return n
}

// InformativeTerms sorts an incident's terms by how much they say, from df,
// their document frequencies (how many known errors hold each), and the number
// of published known errors. A word found in more than a fifth of the known
// errors (and in more than minCommon), or in commonAt of them, is common:
// "user", "error". The others score (scored); the rarest of those found in
// any known error find the candidates (search): at most maxSearchTerms, held
// by at most searchBudget known errors together (the rarest always).
func InformativeTerms(terms []string, df []int64, published int64) (scored, search []string) {
	limit := max(int64(minCommon), published/5)
	type ranked struct {
		term string
		df   int64
	}
	var found []ranked
	for i, t := range terms {
		if i >= len(df) || df[i] >= commonAt || df[i] > limit {
			continue
		}
		scored = append(scored, t)
		if df[i] > 0 {
			found = append(found, ranked{t, df[i]})
		}
	}
	slices.SortStableFunc(found, func(a, b ranked) int { return int(a.df - b.df) })
	var postings int64
	for i := 0; i < len(found) && i < maxSearchTerms; i++ {
		if postings += found[i].df; i > 0 && postings > searchBudget {
			break
		}
		search = append(search, found[i].term)
	}
	return scored, search
}
