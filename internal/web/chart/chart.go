// Package chart draws small server-side SVG charts for Steward's pages: bar
// charts (stacked when there are several series), line charts with a target
// line, and a week grid of working hours. It does no I/O and knows nothing of
// Steward's services.
//
// Every chart comes with what a reader who cannot see it needs: the SVG is
// role="img" with a <title> and a <desc> that say what it shows, each mark has
// a <title> with its value, and the figure carries the same figures as a data
// table (in a <details> element under the drawing). Styling is by CSS classes
// only (ch-*, see internal/web/static/sla.css), since the pages' Content
// Security Policy forbids inline styles.
package chart

import (
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Series is one named set of values over a chart's labels: one line of a line
// chart, or one layer of a stacked bar chart. A NaN value means no data.
type Series struct {
	// Name is what the legend and the data table call the series.
	Name string
	// Class styles the series' marks (e.g. "ch-planned"); empty picks
	// ch-s1, ch-s2, … by position.
	Class string
	// Values hold one value per label of the chart.
	Values []float64
}

// Format turns a value into the text a reader sees, such as "99.5 %" or "3 h 20 min".
type Format func(v float64) string

// Number formats values with a fixed number of decimals and an optional unit suffix.
func Number(decimals int, unit string) Format {
	return func(v float64) string {
		s := strconv.FormatFloat(v, 'f', decimals, 64)
		if unit != "" {
			s += " " + unit
		}
		return s
	}
}

// Common are the fields every chart has.
type Common struct {
	// ID makes the chart's element ids unique on its page; empty derives it from Title.
	ID string
	// Title is the chart's title: the SVG's <title> and the data table's caption.
	Title string
	// Desc summarises what the chart shows, for those who do not see it.
	Desc string
	// Labels name the categories along the x axis (months, priorities).
	Labels []string
	// Series are the values; a chart without any value says "No data".
	Series []Series
	// Format writes values; nil writes them with one decimal.
	Format Format
	// Axis writes the y axis' tick labels; nil uses Format.
	Axis Format
	// Width and Height are the drawing's size in CSS pixels (defaults 460 × 240).
	Width, Height float64
	// Min and Max fix the y axis; with both zero it fits the data (and target).
	Min, Max float64
	// Counts marks the values as whole numbers: the axis ticks are whole too.
	Counts bool
}

// Target is a horizontal reference line, such as the agreed availability.
type Target struct {
	// Value is where the line sits; Label is its text ("Target 99.5 %").
	Value float64
	Label string
	// LowerIsBetter marks values above the line as misses (downtime, breaches);
	// by default values below it are misses (achievement, availability).
	LowerIsBetter bool
}

// misses reports whether v is on the wrong side of the target.
func (t *Target) misses(v float64) bool {
	if t == nil || math.IsNaN(v) {
		return false
	}
	if t.LowerIsBetter {
		return v > t.Value
	}
	return v < t.Value
}

// Geometry of the drawings, in CSS pixels; font sizes match sla.css.
const (
	defaultWidth  = 460.0
	defaultHeight = 240.0
	fontSize      = 12.0
	padTop        = 28.0 // room for the legend
	padBottom     = 30.0 // room for the x labels
	padRight      = 16.0
)

// setup fills a chart's defaults.
func (c *Common) setup() {
	if c.Width <= 0 {
		c.Width = defaultWidth
	}
	if c.Height <= 0 {
		c.Height = defaultHeight
	}
	if c.Format == nil {
		c.Format = Number(1, "")
	}
	if c.Axis == nil {
		c.Axis = c.Format
	}
	if c.ID == "" {
		c.ID = slug(c.Title)
	}
}

// empty reports whether no series holds any value.
func (c *Common) empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				return false
			}
		}
	}
	return true
}

// value is series s's value at label i, NaN when it has none.
func (s Series) value(i int) float64 {
	if i < len(s.Values) {
		return s.Values[i]
	}
	return math.NaN()
}

// class is series k's CSS class.
func (s Series) class(k int) string {
	if s.Class != "" {
		return s.Class
	}
	return "ch-s" + strconv.Itoa(k%6+1)
}

// scale maps values to y pixel positions between top and bottom.
type scale struct {
	min, max    float64
	top, bottom float64
	ticks       []float64
}

// y is the vertical position of v.
func (s scale) y(v float64) float64 {
	if s.max == s.min {
		return s.bottom
	}
	return s.bottom - (v-s.min)/(s.max-s.min)*(s.bottom-s.top)
}

// niceScale picks an axis from lo to hi with about n round ticks (steps of 1, 2 or 5 × 10^k).
func niceScale(lo, hi float64, n int) (float64, float64, []float64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		if hi == 0 {
			hi = 1
		} else {
			lo, hi = lo-math.Abs(lo)*0.1, hi+math.Abs(hi)*0.1
		}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	lo = math.Floor(lo/step+1e-9) * step
	hi = math.Ceil(hi/step-1e-9) * step
	var ticks []float64
	for v := lo; v <= hi+step/2; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	return lo, hi, ticks
}

// textWidth estimates the width of s in the chart's font.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case r == ' ' || r == '.' || r == ',' || r == ':' || r == 'i' || r == 'l' || r == '1':
			w += 0.32
		case r >= 'A' && r <= 'Z' || r == 'm' || r == 'w' || r == '%':
			w += 0.72
		default:
			w += 0.56
		}
	}
	return w * size
}

// esc escapes text for SVG or HTML content and attributes.
func esc(s string) string { return template.HTMLEscapeString(s) }

// num writes a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// slug makes an element id from a title.
func slug(s string) string {
	var b strings.Builder
	b.WriteString("ch-")
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() > 40 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// open writes the figure's start and the SVG element with its title and description.
func open(b *strings.Builder, c *Common, kind string) {
	b.WriteString(`<figure class="ch ch-` + kind + `" id="` + esc(c.ID) + `">`)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="ch-svg" role="img" aria-labelledby="` + esc(c.ID) + `-t ` + esc(c.ID) + `-d" viewBox="0 0 ` +
		num(c.Width) + ` ` + num(c.Height) + `" width="` + num(c.Width) + `" height="` + num(c.Height) + `">`)
	b.WriteString(`<title id="` + esc(c.ID) + `-t">` + esc(c.Title) + `</title>`)
	b.WriteString(`<desc id="` + esc(c.ID) + `-d">` + esc(c.Desc) + `</desc>`)
}

// legend writes the series' swatches along the top, and the target's.
func legend(b *strings.Builder, series []Series, target *Target, kind string) {
	x := 4.0
	b.WriteString(`<g class="ch-legend" aria-hidden="true">`)
	for k, s := range series {
		if len(series) == 1 && target == nil {
			break
		}
		cls := s.class(k)
		if kind == "line" {
			b.WriteString(`<line class="ch-line ` + cls + `" x1="` + num(x) + `" y1="12" x2="` + num(x+16) + `" y2="12"/>`)
		} else {
			b.WriteString(`<rect class="ch-swatch ` + cls + `" x="` + num(x) + `" y="6" width="12" height="12"/>`)
		}
		x += 20
		b.WriteString(`<text class="ch-text" x="` + num(x) + `" y="16">` + esc(s.Name) + `</text>`)
		x += textWidth(s.Name, fontSize) + 18
	}
	if target != nil {
		b.WriteString(`<line class="ch-target" x1="` + num(x) + `" y1="12" x2="` + num(x+18) + `" y2="12"/>`)
		x += 22
		b.WriteString(`<text class="ch-text" x="` + num(x) + `" y="16">` + esc(target.Label) + `</text>`)
	}
	b.WriteString(`</g>`)
}

// yAxis fits the value axis to lo..hi (or the chart's fixed range) and draws its grid and labels.
// It returns the scale and the plot's left edge.
func yAxis(b *strings.Builder, c *Common, lo, hi float64) (scale, float64) {
	if c.Min != 0 || c.Max != 0 {
		lo, hi = c.Min, c.Max
	}
	n := max(2, int((c.Height-padTop-padBottom)/40))
	if c.Counts && hi-lo < float64(n) {
		n = max(1, int(math.Ceil(hi-lo)))
	}
	lo, hi, ticks := niceScale(lo, hi, n)
	if c.Min != 0 || c.Max != 0 {
		lo, hi = c.Min, c.Max
		ticks = ticks[:0:0]
		_, _, all := niceScale(lo, hi, n)
		for _, t := range all {
			if t >= lo-1e-9 && t <= hi+1e-9 {
				ticks = append(ticks, t)
			}
		}
	}
	left := 0.0
	for _, t := range ticks {
		left = max(left, textWidth(c.Axis(t), fontSize))
	}
	left = math.Ceil(left + 12)
	s := scale{min: lo, max: hi, top: padTop, bottom: c.Height - padBottom, ticks: ticks}
	b.WriteString(`<g class="ch-axis" aria-hidden="true">`)
	for _, t := range ticks {
		y := s.y(t)
		b.WriteString(`<line class="ch-grid" x1="` + num(left) + `" y1="` + num(y) + `" x2="` + num(c.Width-padRight) + `" y2="` + num(y) + `"/>`)
		b.WriteString(`<text class="ch-text ch-tick" x="` + num(left-6) + `" y="` + num(y+4) + `" text-anchor="end">` + esc(c.Axis(t)) + `</text>`)
	}
	b.WriteString(`<line class="ch-base" x1="` + num(left) + `" y1="` + num(s.bottom) + `" x2="` + num(c.Width-padRight) + `" y2="` + num(s.bottom) + `"/>`)
	b.WriteString(`</g>`)
	return s, left
}

// xLabels writes the category labels under the plot, leaving some out when they would collide.
func xLabels(b *strings.Builder, c *Common, xs []float64) {
	if len(xs) == 0 {
		return
	}
	widest := 0.0
	for _, l := range c.Labels {
		widest = max(widest, textWidth(l, fontSize))
	}
	every := 1
	if len(xs) > 1 {
		gap := xs[1] - xs[0]
		for float64(every)*gap < widest+8 && every < len(xs) {
			every++
		}
	}
	b.WriteString(`<g class="ch-xlabels" aria-hidden="true">`)
	for i, x := range xs {
		// Counted from the end, so that the latest label always shows.
		if (len(xs)-1-i)%every != 0 || i >= len(c.Labels) {
			continue
		}
		b.WriteString(`<text class="ch-text" x="` + num(x) + `" y="` + num(c.Height-padBottom+16) + `" text-anchor="middle">` + esc(c.Labels[i]) + `</text>`)
	}
	b.WriteString(`</g>`)
}

// noData writes the message of a chart without values.
func noData(b *strings.Builder, c *Common) {
	b.WriteString(`<text class="ch-text ch-empty" x="` + num(c.Width/2) + `" y="` + num(c.Height/2) + `" text-anchor="middle">No data for this period</text>`)
}

// table writes the figures as a data table, one row per label and a column per
// series; with a target, a column says whether the row met it (stacked: by the
// row's total, else by every series).
func table(b *strings.Builder, c *Common, target *Target, stacked bool) {
	b.WriteString(`<details class="ch-data"><summary>The figures as a table</summary><div class="table-wrap"><table class="data ch-table"><caption>` + esc(c.Title) + `</caption><thead><tr><th scope="col"></th>`)
	for _, s := range c.Series {
		b.WriteString(`<th scope="col">` + esc(s.Name) + `</th>`)
	}
	if target != nil {
		b.WriteString(`<th scope="col">` + esc(target.Label) + `</th>`)
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, l := range c.Labels {
		b.WriteString(`<tr><th scope="row">` + esc(l) + `</th>`)
		missed, seen, total := false, false, 0.0
		for _, s := range c.Series {
			v := s.value(i)
			if math.IsNaN(v) {
				b.WriteString(`<td class="muted">no data</td>`)
				continue
			}
			seen, total = true, total+v
			missed = missed || (!stacked && target.misses(v))
			b.WriteString(`<td>` + esc(c.Format(v)) + `</td>`)
		}
		if stacked {
			missed = target.misses(total)
		}
		if target != nil {
			switch {
			case !seen:
				b.WriteString(`<td class="muted">—</td>`)
			case missed:
				b.WriteString(`<td>missed</td>`)
			default:
				b.WriteString(`<td>met</td>`)
			}
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
}
