// Package graph draws the CMDB impact graph as server-rendered SVG: the
// analysed configuration items in the first column, the items they affect (or
// depend on) one column per hop, laid out in layers with few edge crossings.
//
// The markup carries no style attributes, style elements or scripts, so it
// works under Steward's Content-Security-Policy: every colour and font comes
// from classes defined in static/graph.css. Nodes with a link are SVG <a>
// elements, so they take keyboard focus, and every node has a text
// alternative naming its class, its state and its relationships.
package graph

import (
	"html/template"
)

// Node is one configuration item drawn in the graph.
type Node struct {
	// ID identifies the CI; edges refer to it.
	ID int64
	// Label is the CI's name; a long one is shortened with an ellipsis and given in full in the tooltip.
	Label string
	// Kind is the CI's class label, drawn small under the name.
	Kind string
	// State is "root" (a CI being analysed), "down", "degraded" or "ok"; anything else counts as "ok".
	State string
	// Layer is the number of hops from the analysed CIs, which are layer 0.
	Layer int
	// Href is where a click on the node leads; empty, or a URL with a scheme other than http, https or mailto, means no link.
	Href string
	// Note is an optional short extra line, such as "2/3 members down".
	Note string
}

// Edge is an arrow between two nodes.
type Edge struct {
	// From is the ID of the node the arrow starts at.
	From int64
	// To is the ID of the node the arrow points to.
	To int64
	// Label names the relationship, such as "runs on"; it appears in the edge's tooltip.
	Label string
}

// Options tunes the drawing.
type Options struct {
	// Title is the accessible name of the whole graph; it defaults to "Impact graph".
	Title string
	// MaxPerLayer is how many nodes a layer shows before the rest collapse into one "+N more" node; it defaults to 30.
	MaxPerLayer int
	// Direction is "down" (the default: layer 0 on the left, deeper layers to the right) or "up" (layer 0 on the right).
	Direction string
}

// Render lays the graph out in layers and returns its SVG markup, with every
// label escaped, ready to embed in a page. The SVG has a fixed pixel size so
// its text stays readable: put it in an element of class "g-scroll", which
// scrolls it. Edges to unknown nodes and self-loops are left out; a layer with
// more than Options.MaxPerLayer nodes shows the most severe ones (then the
// lowest IDs) and one "+N more" node that takes their edges.
func Render(nodes []Node, edges []Edge, opt Options) template.HTML {
	l := newLayout(nodes, edges, opt)
	l.order()
	l.place()
	return template.HTML(l.svg())
}
