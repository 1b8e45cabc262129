package chart

import (
	"html/template"
	"math"
	"strings"
)

// Line is a line chart: a line per series over the labels, with an optional
// target line; points on the wrong side of the target are marked as misses.
// A NaN value breaks the line.
type Line struct {
	Common
	// Target, when set, draws the reference line and marks the misses.
	Target *Target
}

// Render draws the line chart and its data table.
func (c Line) Render() template.HTML {
	c.setup()
	var b strings.Builder
	b.Grow(2048 + 400*len(c.Labels)*max(1, len(c.Series)))
	open(&b, &c.Common, "line")
	if c.empty() || len(c.Labels) == 0 {
		noData(&b, &c.Common)
		b.WriteString(`</svg>`)
		table(&b, &c.Common, c.Target, false)
		return template.HTML(b.String())
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range c.Labels {
			if v := s.value(i); !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if c.Target != nil {
		lo, hi = min(lo, c.Target.Value), max(hi, c.Target.Value)
	}
	legend(&b, c.Series, c.Target, "line")
	sc, left := yAxis(&b, &c.Common, lo, hi)
	band := (c.Width - padRight - left) / float64(len(c.Labels))
	xs := make([]float64, len(c.Labels))
	for i := range xs {
		xs[i] = left + band*(float64(i)+0.5)
	}
	if c.Target != nil {
		targetLine(&b, &c.Common, sc, left, c.Target)
	}
	for k, s := range c.Series {
		cls := s.class(k)
		b.WriteString(`<g class="ch-series ` + cls + `">`)
		var path strings.Builder
		pen := false
		for i, x := range xs {
			v := s.value(i)
			if math.IsNaN(v) {
				pen = false
				continue
			}
			if pen {
				path.WriteString(" L")
			} else {
				if path.Len() > 0 {
					path.WriteByte(' ')
				}
				path.WriteString("M")
			}
			path.WriteString(num(x) + " " + num(sc.y(clamp(v, sc))))
			pen = true
		}
		b.WriteString(`<path class="ch-line ` + cls + `" d="` + path.String() + `"/>`)
		for i, x := range xs {
			v := s.value(i)
			if math.IsNaN(v) {
				continue
			}
			pcls := "ch-point " + cls
			note := ""
			if c.Target.misses(v) {
				pcls += " ch-miss"
				note = " (missed the target)"
			}
			name := c.Labels[i] + ": " + c.Format(v) + note
			if len(c.Series) > 1 {
				name = s.Name + ", " + name
			}
			b.WriteString(`<circle class="` + pcls + `" cx="` + num(x) + `" cy="` + num(sc.y(clamp(v, sc))) + `" r="4"><title>` + esc(name) + `</title></circle>`)
		}
		b.WriteString(`</g>`)
	}
	xLabels(&b, &c.Common, xs)
	b.WriteString(`</svg>`)
	table(&b, &c.Common, c.Target, false)
	return template.HTML(b.String())
}

// clamp keeps v inside the axis, for a fixed range narrower than the data.
func clamp(v float64, sc scale) float64 { return min(max(v, sc.min), sc.max) }
