package chart

import (
	"fmt"
	"html/template"
	"strings"
)

// Week is a seven-day grid of working time: a row per day, the hours of the
// day across, the working spans as bands.
type Week struct {
	// ID makes element ids unique on the page; empty derives it from Title.
	ID string
	// Title and Desc name and summarise the grid for those who do not see it.
	Title, Desc string
	// Days are the rows, in order.
	Days []Day
	// Width is the drawing's width in CSS pixels (default 720).
	Width float64
}

// Day is one row of a week grid.
type Day struct {
	// Label names the day ("Mon 9 Mar").
	Label string
	// Spans are the working spans in minutes after local midnight, ascending.
	Spans []Span
	// Note says why the day differs, such as "Holiday: Christmas Day".
	Note string
}

// Span is working time from From to To minutes after local midnight (0–1440).
type Span struct{ From, To int }

// minutes is the day's working time in minutes.
func (d Day) minutes() int {
	n := 0
	for _, s := range d.Spans {
		n += s.To - s.From
	}
	return n
}

// Clock writes minutes after midnight as "HH:MM" ("24:00" at the end of the day).
func Clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Hours writes minutes as hours, "9 h" or "7 h 30 min".
func Hours(m int) string {
	switch {
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	case m < 60:
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// Render draws the week grid and its data table.
func (w Week) Render() template.HTML {
	if w.Width <= 0 {
		w.Width = 720
	}
	if w.ID == "" {
		w.ID = slug(w.Title)
	}
	const (
		labelW = 96.0
		totalW = 78.0
		rowH   = 28.0
		headH  = 22.0
	)
	height := headH + rowH*float64(len(w.Days)) + 6
	plotL, plotR := labelW, w.Width-totalW
	x := func(m int) float64 { return plotL + (plotR-plotL)*float64(m)/1440 }
	c := Common{ID: w.ID, Title: w.Title, Desc: w.Desc, Width: w.Width, Height: height}
	var b strings.Builder
	b.Grow(4096 + 600*len(w.Days))
	open(&b, &c, "week")
	b.WriteString(`<g class="ch-axis" aria-hidden="true">`)
	for h := 0; h <= 24; h += 3 {
		xx := x(h * 60)
		b.WriteString(`<line class="ch-grid" x1="` + num(xx) + `" y1="` + num(headH-4) + `" x2="` + num(xx) + `" y2="` + num(height-6) + `"/>`)
		anchor := "middle"
		if h == 24 {
			anchor = "end"
		}
		b.WriteString(`<text class="ch-text ch-tick" x="` + num(xx) + `" y="14" text-anchor="` + anchor + `">` + Clock(h*60) + `</text>`)
	}
	b.WriteString(`</g>`)
	for i, d := range w.Days {
		top := headH + rowH*float64(i)
		cls := "ch-day"
		if d.Note != "" {
			cls += " ch-holiday"
		}
		b.WriteString(`<g class="` + cls + `">`)
		b.WriteString(`<rect class="ch-row" x="` + num(plotL) + `" y="` + num(top+3) + `" width="` + num(plotR-plotL) + `" height="` + num(rowH-6) + `"/>`)
		b.WriteString(`<text class="ch-text ch-daylabel" x="4" y="` + num(top+rowH/2+4) + `">` + esc(d.Label) + `</text>`)
		for _, s := range d.Spans {
			b.WriteString(`<rect class="ch-work" x="` + num(x(s.From)) + `" y="` + num(top+5) + `" width="` + num(x(s.To)-x(s.From)) + `" height="` + num(rowH-10) + `"><title>` +
				esc(d.Label+": "+Clock(s.From)+"–"+Clock(s.To)) + `</title></rect>`)
		}
		if d.Note != "" && len(d.Spans) == 0 {
			b.WriteString(`<text class="ch-text ch-note" x="` + num(plotL+8) + `" y="` + num(top+rowH/2+4) + `">` + esc(d.Note) + `</text>`)
		}
		b.WriteString(`<text class="ch-text ch-total" x="` + num(w.Width-4) + `" y="` + num(top+rowH/2+4) + `" text-anchor="end">` + Hours(d.minutes()) + `</text>`)
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	b.WriteString(`<details class="ch-data"><summary>The week as a table</summary><div class="table-wrap"><table class="data ch-table"><caption>` + esc(w.Title) +
		`</caption><thead><tr><th scope="col">Day</th><th scope="col">Working time</th><th scope="col">Hours</th></tr></thead><tbody>`)
	for _, d := range w.Days {
		b.WriteString(`<tr><th scope="row">` + esc(d.Label) + `</th><td>`)
		for k, s := range d.Spans {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Clock(s.From) + "–" + Clock(s.To))
		}
		if len(d.Spans) == 0 {
			b.WriteString("none")
		}
		if d.Note != "" {
			b.WriteString(" (" + esc(d.Note) + ")")
		}
		b.WriteString(`</td><td>` + Hours(d.minutes()) + `</td></tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
	return template.HTML(b.String())
}
