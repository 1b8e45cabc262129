package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/auth"
	"steward/internal/platform/httpx"
)

// openAPIPath is where the API's OpenAPI document is served.
const openAPIPath = "/api/v1/openapi.json"

// apiDocsData is the content of the API reference page.
type apiDocsData struct {
	Title, Version, Description string
	SpecURL                     string
	Groups                      []apiGroup
	Count                       int
}

// apiGroup is the operations of one tag.
type apiGroup struct {
	Name, Description, Anchor string
	Ops                       []apiOp
}

// apiOp is one operation of the API.
type apiOp struct {
	ID, Method, Path, Summary, Description string
	// Access is who may call the operation: "public", "authenticated" or a permission.
	Access     string
	Deprecated bool
	Params     []apiField
	// Body lists the request body's top-level fields; BodyType is its media type.
	Body     []apiField
	BodyType string
}

// apiField is a parameter or a body field.
type apiField struct {
	Name, In, Type, Description string
	Required                    bool
}

// apiDocs serves GET /api/docs: the API reference, rendered on the server from
// the OpenAPI document, so that it needs no script and nothing from a CDN.
func (s *site) apiDocs(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	d := describeAPI(s.API.OpenAPI())
	s.render(w, r, http.StatusOK, "apidocs", &view{Title: "API reference", Section: "apidocs", User: p, Data: d})
	return nil
}

// methodOrder sorts an operation list by path, then in this method order.
var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"}

// describeAPI turns the OpenAPI document into the page's groups: one per tag,
// in the document's tag order and then by name; operations by path and method.
func describeAPI(doc *huma.OpenAPI) apiDocsData {
	d := apiDocsData{SpecURL: openAPIPath}
	if doc == nil {
		return d
	}
	if doc.Info != nil {
		d.Title, d.Version, d.Description = doc.Info.Title, doc.Info.Version, doc.Info.Description
	}
	groups := map[string]*apiGroup{}
	for path, item := range doc.Paths {
		for _, m := range methodOrder {
			op := operation(item, m)
			if op == nil || op.Hidden {
				continue
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g := groups[tag]
			if g == nil {
				g = &apiGroup{Name: tag, Anchor: "tag-" + slug(tag)}
				groups[tag] = g
			}
			g.Ops = append(g.Ops, describeOp(doc, path, m, item, op))
			d.Count++
		}
	}
	var order []string
	for _, t := range doc.Tags {
		if g := groups[t.Name]; g != nil && !slices.Contains(order, t.Name) {
			g.Description = t.Description
			order = append(order, t.Name)
		}
	}
	var rest []string
	for name := range groups {
		if !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range append(order, rest...) {
		g := groups[name]
		slices.SortFunc(g.Ops, func(a, b apiOp) int {
			if c := strings.Compare(a.Path, b.Path); c != 0 {
				return c
			}
			return slices.Index(methodOrder, a.Method) - slices.Index(methodOrder, b.Method)
		})
		d.Groups = append(d.Groups, *g)
	}
	return d
}

func operation(item *huma.PathItem, method string) *huma.Operation {
	switch method {
	case "GET":
		return item.Get
	case "POST":
		return item.Post
	case "PUT":
		return item.Put
	case "PATCH":
		return item.Patch
	case "DELETE":
		return item.Delete
	case "HEAD":
		return item.Head
	case "OPTIONS":
		return item.Options
	case "TRACE":
		return item.Trace
	}
	return nil
}

func describeOp(doc *huma.OpenAPI, path, method string, item *huma.PathItem, op *huma.Operation) apiOp {
	o := apiOp{ID: op.OperationID, Method: method, Path: path, Summary: op.Summary, Description: op.Description,
		Deprecated: op.Deprecated}
	if a, ok := op.Extensions[httpx.MetaAccess].(string); ok {
		o.Access = a
	}
	if o.ID == "" {
		o.ID = slug(method + " " + path)
	}
	for _, prm := range append(slices.Clone(item.Parameters), op.Parameters...) {
		prm = resolveParam(doc, prm)
		if prm == nil {
			continue
		}
		o.Params = append(o.Params, apiField{Name: prm.Name, In: prm.In, Type: schemaType(doc, prm.Schema),
			Description: prm.Description, Required: prm.Required})
	}
	if rb := op.RequestBody; rb != nil {
		types := make([]string, 0, len(rb.Content))
		for t := range rb.Content {
			types = append(types, t)
		}
		slices.Sort(types)
		if len(types) > 0 {
			o.BodyType = types[0]
			if slices.Contains(types, "application/json") {
				o.BodyType = "application/json"
			}
			if mt := rb.Content[o.BodyType]; mt != nil {
				o.Body = bodyFields(doc, mt.Schema)
			}
		}
	}
	return o
}

// resolveParam follows a parameter's $ref into the components.
func resolveParam(doc *huma.OpenAPI, p *huma.Param) *huma.Param {
	if p == nil || p.Ref == "" {
		return p
	}
	if doc.Components == nil {
		return nil
	}
	return doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
}

// resolveSchema follows a schema's $ref into the components.
func resolveSchema(doc *huma.OpenAPI, s *huma.Schema) *huma.Schema {
	if s == nil || s.Ref == "" || doc.Components == nil || doc.Components.Schemas == nil {
		return s
	}
	if r := doc.Components.Schemas.SchemaFromRef(s.Ref); r != nil {
		return r
	}
	return s
}

// bodyFields lists the top-level fields of an object body.
func bodyFields(doc *huma.OpenAPI, s *huma.Schema) []apiField {
	s = resolveSchema(doc, s)
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		if n != "$schema" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := make([]apiField, 0, len(names))
	for _, n := range names {
		ps := resolveSchema(doc, s.Properties[n])
		if ps != nil && ps.ReadOnly {
			continue
		}
		f := apiField{Name: n, Type: schemaType(doc, s.Properties[n]), Required: slices.Contains(s.Required, n)}
		if ps != nil {
			f.Description = ps.Description
		}
		out = append(out, f)
	}
	return out
}

// schemaType describes a schema's type in a few words: "string (date-time)", "array of integer", "one of a, b".
func schemaType(doc *huma.OpenAPI, s *huma.Schema) string {
	if s == nil {
		return ""
	}
	name := ""
	if s.Ref != "" {
		name = s.Ref[strings.LastIndexByte(s.Ref, '/')+1:]
	}
	s = resolveSchema(doc, s)
	t := s.Type
	switch {
	case t == "array":
		t = "array of " + schemaType(doc, s.Items)
	case t == "object" && name != "":
		t = name
	case t == "" && name != "":
		t = name
	case t == "":
		t = "any"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		t += ": one of " + strings.Join(vals, ", ")
	}
	return strings.TrimSpace(t)
}

// slug makes a string safe and readable as an HTML id.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
