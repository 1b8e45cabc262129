package chart

import (
	"html/template"
	"math"
	"strings"
)

// Bar is a bar chart: one bar per label, its series stacked from the axis up
// (one series gives plain bars). Negative values are not drawn below the axis.
type Bar struct {
	Common
	// Target, when set, draws a reference line across the bars.
	Target *Target
	// Totals writes each bar's total above it.
	Totals bool
}

// Render draws the bar chart and its data table.
func (c Bar) Render() template.HTML {
	c.setup()
	var b strings.Builder
	b.Grow(2048 + 600*len(c.Labels)*max(1, len(c.Series)))
	open(&b, &c.Common, "bar")
	if c.empty() || len(c.Labels) == 0 {
		noData(&b, &c.Common)
		b.WriteString(`</svg>`)
		table(&b, &c.Common, c.Target, len(c.Series) > 1)
		return template.HTML(b.String())
	}
	hi := 0.0
	totals := make([]float64, len(c.Labels))
	for i := range c.Labels {
		for _, s := range c.Series {
			if v := s.value(i); !math.IsNaN(v) && v > 0 {
				totals[i] += v
			}
		}
		hi = max(hi, totals[i])
	}
	if c.Target != nil {
		hi = max(hi, c.Target.Value)
	}
	legend(&b, c.Series, c.Target, "bar")
	sc, left := yAxis(&b, &c.Common, 0, hi)
	band := (c.Width - padRight - left) / float64(len(c.Labels))
	barW := math.Min(band*0.62, 56)
	xs := make([]float64, len(c.Labels))
	b.WriteString(`<g class="ch-bars">`)
	for i, label := range c.Labels {
		x := left + band*(float64(i)+0.5)
		xs[i] = x
		base := 0.0
		for k, s := range c.Series {
			v := s.value(i)
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			y0, y1 := sc.y(base), sc.y(base+v)
			base += v
			cls := "ch-bar " + s.class(k)
			if c.Target.misses(base) && len(c.Series) == 1 {
				cls += " ch-miss"
			}
			name := label + ": " + c.Format(v)
			if len(c.Series) > 1 {
				name = label + ", " + s.Name + ": " + c.Format(v)
			}
			b.WriteString(`<rect class="` + cls + `" x="` + num(x-barW/2) + `" y="` + num(y1) + `" width="` + num(barW) + `" height="` + num(math.Max(y0-y1, 0.5)) + `"><title>` + esc(name) + `</title></rect>`)
		}
		if c.Totals && totals[i] > 0 && band >= 28 {
			b.WriteString(`<text class="ch-text ch-value" x="` + num(x) + `" y="` + num(sc.y(totals[i])-4) + `" text-anchor="middle" aria-hidden="true">` + esc(c.Format(totals[i])) + `</text>`)
		}
	}
	b.WriteString(`</g>`)
	if c.Target != nil {
		targetLine(&b, &c.Common, sc, left, c.Target)
	}
	xLabels(&b, &c.Common, xs)
	b.WriteString(`</svg>`)
	table(&b, &c.Common, c.Target, len(c.Series) > 1)
	return template.HTML(b.String())
}

// targetLine draws the target's dashed line across the plot, labelled at its right end.
func targetLine(b *strings.Builder, c *Common, sc scale, left float64, t *Target) {
	y := sc.y(min(max(t.Value, sc.min), sc.max))
	right := c.Width - padRight
	b.WriteString(`<g class="ch-targets"><line class="ch-target" x1="` + num(left) + `" y1="` + num(y) + `" x2="` + num(right) + `" y2="` + num(y) + `"><title>` + esc(t.Label) + `</title></line>`)
	b.WriteString(`<text class="ch-text ch-target-label" x="` + num(right-2) + `" y="` + num(y-4) + `" text-anchor="end" aria-hidden="true">` + esc(t.Label) + `</text></g>`)
}
