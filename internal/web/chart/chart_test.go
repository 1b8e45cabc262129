package chart

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// wellFormed parses the figure as XML and returns every element's name with its attributes.
func wellFormed(t *testing.T, html string) []xml.StartElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(html))
	var els []xml.StartElement
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return els
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, html)
		}
		if se, ok := tok.(xml.StartElement); ok {
			els = append(els, se.Copy())
		}
	}
}

// attr is the value of an element's attribute.
func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// count is how many elements have the tag and include the class.
func count(els []xml.StartElement, tag, class string) int {
	n := 0
	for _, e := range els {
		if e.Name.Local == tag && (class == "" || slices.Contains(strings.Fields(attr(e, "class")), class)) {
			n++
		}
	}
	return n
}

func TestNiceScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lo, hi     float64
		n          int
		wantLo     float64
		wantHi     float64
		wantTicks  int
		firstTicks []float64
	}{
		{0, 7, 4, 0, 8, 5, []float64{0, 2, 4}},
		{0, 100, 5, 0, 100, 6, []float64{0, 20, 40}},
		{93.2, 99.9, 4, 92, 100, 5, []float64{92, 94}},
		{0, 0, 4, 0, 1, 3, []float64{0, 0.5}},
		{5, 5, 4, 4.5, 5.5, 3, []float64{4.5, 5}},
		{0, 1234, 5, 0, 1500, 4, []float64{0, 500}},
	} {
		lo, hi, ticks := niceScale(tc.lo, tc.hi, tc.n)
		if lo != tc.wantLo || hi != tc.wantHi || len(ticks) != tc.wantTicks || !slices.Equal(ticks[:len(tc.firstTicks)], tc.firstTicks) {
			t.Errorf("niceScale(%v, %v, %d) = %v, %v, %v", tc.lo, tc.hi, tc.n, lo, hi, ticks)
		}
	}
}

func TestChartsAreAccessibleAndStyledByClassOnly(t *testing.T) {
	t.Parallel()
	months := []string{"Jan", "Feb", "Mar", "Apr"}
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		html string
		// want are strings the output must contain.
		want []string
		// marks is the tag and class of the data marks and how many there are.
		tag, class string
		marks      int
		misses     int
	}{
		{
			name: "line with target",
			html: string(Line{Common: Common{ID: "trend", Title: "Achievement <by month>", Desc: "Met within target, per month.",
				Labels: months, Series: []Series{{Name: "Resolution P1", Values: []float64{100, 92.5, nan, 97}}}, Format: Number(1, "%"), Max: 100},
				Target: &Target{Value: 95, Label: "Target 95 %"}}.Render()),
			want: []string{`role="img"`, `aria-labelledby="trend-t trend-d"`, `<title id="trend-t">Achievement &lt;by month&gt;</title>`,
				`<desc id="trend-d">Met within target, per month.</desc>`, `<title>Feb: 92.5 % (missed the target)</title>`,
				`<caption>Achievement &lt;by month&gt;</caption>`, `<th scope="row">Mar</th><td class="muted">no data</td><td class="muted">—</td>`,
				`<th scope="row">Feb</th><td>92.5 %</td><td>missed</td>`, `<th scope="row">Jan</th><td>100.0 %</td><td>met</td>`, `class="ch-target"`},
			tag: "circle", class: "ch-point", marks: 3, misses: 1,
		},
		{
			name: "plain bars",
			html: string(Bar{Common: Common{Title: "Breaches by priority", Labels: []string{"P1", "P2", "P3"},
				Series: []Series{{Name: "Breaches", Values: []float64{4, 0, 2}}}, Format: Number(0, "")}, Totals: true}.Render()),
			want: []string{`id="ch-breaches-by-priority"`, `<title>P1: 4</title>`, `<th scope="row">P2</th><td>0</td>`},
			tag:  "rect", class: "ch-bar", marks: 2,
		},
		{
			name: "stacked bars with a target",
			html: string(Bar{Common: Common{ID: "down", Title: "Downtime by month", Labels: months[:2],
				Series: []Series{{Name: "Unplanned", Class: "ch-unplanned", Values: []float64{3, 1}}, {Name: "Planned", Class: "ch-planned", Values: []float64{2, 0}}},
				Format: Number(1, "h")}, Target: &Target{Value: 4, Label: "Allowed 4 h", LowerIsBetter: true}, Totals: true}.Render()),
			want: []string{`<title>Jan, Planned: 2.0 h</title>`, `<th scope="col">Unplanned</th><th scope="col">Planned</th><th scope="col">Allowed 4 h</th>`,
				`>5.0 h</text>`, `<td>missed</td>`},
			tag: "rect", class: "ch-bar", marks: 3,
		},
		{
			name: "no data",
			html: string(Line{Common: Common{ID: "nil", Title: "Empty", Labels: months, Series: []Series{{Name: "x", Values: []float64{nan, nan, nan, nan}}}}}.Render()),
			want: []string{"No data for this period", `role="img"`},
			tag:  "circle", class: "ch-point", marks: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			els := wellFormed(t, tc.html)
			for _, w := range tc.want {
				if !strings.Contains(tc.html, w) {
					t.Errorf("missing %q in\n%s", w, tc.html)
				}
			}
			for _, e := range els {
				if attr(e, "style") != "" || e.Name.Local == "style" {
					t.Errorf("inline style on <%s>", e.Name.Local)
				}
			}
			if got := count(els, tc.tag, tc.class); got != tc.marks {
				t.Errorf("%d %s.%s marks, want %d", got, tc.tag, tc.class, tc.marks)
			}
			if got := count(els, tc.tag, "ch-miss"); got != tc.misses {
				t.Errorf("%d misses, want %d", got, tc.misses)
			}
			if count(els, "table", "ch-table") != 1 || count(els, "svg", "ch-svg") != 1 {
				t.Error("want one drawing and one data table")
			}
		})
	}
}

func TestCountsHaveWholeTicks(t *testing.T) {
	t.Parallel()
	html := string(Bar{Common: Common{ID: "c", Title: "C", Labels: []string{"P1", "P2"}, Series: []Series{{Name: "n", Values: []float64{1, 1}}},
		Format: Number(0, ""), Counts: true}}.Render())
	var ticks []string
	dec := xml.NewDecoder(strings.NewReader(html))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && strings.Contains(attr(se, "class"), "ch-tick") {
			if cd, ok := mustToken(dec).(xml.CharData); ok {
				ticks = append(ticks, string(cd))
			}
		}
	}
	if !slices.Equal(ticks, []string{"0", "1"}) {
		t.Errorf("ticks %v, want 0 and 1", ticks)
	}
}

// mustToken reads the next token, nil at the end.
func mustToken(dec *xml.Decoder) xml.Token {
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	return tok
}

func TestLineBreaksAtMissingValues(t *testing.T) {
	t.Parallel()
	html := string(Line{Common: Common{ID: "gap", Title: "Gap", Labels: []string{"a", "b", "c", "d"},
		Series: []Series{{Name: "s", Values: []float64{1, 2, math.NaN(), 3}}}}}.Render())
	for _, e := range wellFormed(t, html) {
		if e.Name.Local == "path" {
			if d := attr(e, "d"); strings.Count(d, "M") != 2 || strings.Count(d, "L") != 1 {
				t.Errorf("path %q: want two pieces", d)
			}
		}
	}
}

func TestBarHeightsFollowTheValues(t *testing.T) {
	t.Parallel()
	html := string(Bar{Common: Common{ID: "h", Title: "H", Labels: []string{"a", "b"}, Series: []Series{{Name: "s", Values: []float64{2, 4}}}, Min: 0, Max: 4}}.Render())
	var heights []string
	for _, e := range wellFormed(t, html) {
		if count([]xml.StartElement{e}, "rect", "ch-bar") == 1 {
			heights = append(heights, attr(e, "height"))
		}
	}
	// The plot is 240 − 28 − 30 = 182 px tall for 0–4.
	if !slices.Equal(heights, []string{"91", "182"}) {
		t.Errorf("bar heights %v", heights)
	}
}

func TestWeekGrid(t *testing.T) {
	t.Parallel()
	html := string(Week{ID: "wk", Title: "Business hours, week of 9 March", Desc: "Working time per day.", Days: []Day{
		{Label: "Mon 9 Mar", Spans: []Span{{420, 720}, {780, 1080}}},
		{Label: "Tue 10 Mar", Spans: []Span{{0, 360}, {1320, 1440}}},
		{Label: "Wed 11 Mar", Note: "Holiday: <Founders>"},
	}}.Render())
	els := wellFormed(t, html)
	if got := count(els, "rect", "ch-work"); got != 4 {
		t.Errorf("%d working bands, want 4", got)
	}
	if got := count(els, "g", "ch-holiday"); got != 1 {
		t.Errorf("%d holiday rows, want 1", got)
	}
	for _, w := range []string{`<title>Mon 9 Mar: 07:00–12:00</title>`, `<td>07:00–12:00, 13:00–18:00</td><td>10 h</td>`,
		`<td>00:00–06:00, 22:00–24:00</td><td>8 h</td>`, `<td>none (Holiday: &lt;Founders&gt;)</td><td>0 h</td>`, `role="img"`} {
		if !strings.Contains(html, w) {
			t.Errorf("missing %q in\n%s", w, html)
		}
	}
}

func TestHoursAndClock(t *testing.T) {
	t.Parallel()
	for m, want := range map[int]string{0: "0 h", 45: "45 min", 540: "9 h", 450: "7 h 30 min"} {
		if got := Hours(m); got != want {
			t.Errorf("Hours(%d) = %q, want %q", m, got, want)
		}
	}
	if Clock(1440) != "24:00" || Clock(65) != "01:05" {
		t.Error("Clock")
	}
}
