package cmdb

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
)

// RegisterAPI adds the configuration management endpoints to a. Reading needs
// a signed-in caller; every change is decided inside the service by the CfM
// RACI (CfM1 for the class model, CfM2 to register, CfM3 to change, CfM5 to
// verify).
func RegisterAPI(a *httpx.API, s *Service) {
	registerClasses(a, s)
	registerCIs(a, s)
	registerImpact(a, s)
	registerServices(a, s)
	registerControlAPI(a, s)
}

var tags = []string{"Configuration management"}

type IDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"The CI's id."`
}

type IfMatchHeader struct {
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

type classesOut struct {
	Body struct {
		Items []Class `json:"items"`
	}
}

type ClassNamePath struct {
	Name string `path:"name" maxLength:"63" doc:"The class name, such as virtual_server."`
}

type classCreateIn struct {
	Body struct {
		Name        string           `json:"name" maxLength:"63"`
		Label       string           `json:"label,omitempty" maxLength:"200"`
		Parent      string           `json:"parent" maxLength:"63"`
		Description string           `json:"description,omitempty" maxLength:"4000"`
		Abstract    bool             `json:"abstract,omitempty"`
		Attributes  []AttributeInput `json:"attributes,omitempty" maxItems:"500"`
	}
}

type attributeIn struct {
	ClassNamePath
	IfMatchHeader
	Body AttributeInput
}

// AttributeInput defines an attribute to add.
type AttributeInput struct {
	Name     string   `json:"name" maxLength:"63"`
	Label    string   `json:"label,omitempty" maxLength:"200"`
	Type     AttrType `json:"type" enum:"string,text,integer,number,boolean,date,datetime,enum,reference"`
	Required bool     `json:"required,omitempty"`
	Unique   bool     `json:"unique,omitempty" doc:"The value may appear once across the class and its subclasses; implies indexed."`
	Indexed  bool     `json:"indexed,omitempty" doc:"Searchable by value and usable in identification rules."`
	Enum     []string `json:"enum,omitempty" maxItems:"200"`
	RefClass string   `json:"refClass,omitempty" maxLength:"63"`
}

func (a AttributeInput) attribute() Attribute {
	return Attribute{Name: a.Name, Label: a.Label, Type: a.Type, Required: a.Required, Unique: a.Unique, Indexed: a.Indexed, Enum: a.Enum, RefClass: a.RefClass}
}

func attributes(in []AttributeInput) []Attribute {
	out := make([]Attribute, len(in))
	for i, a := range in {
		out[i] = a.attribute()
	}
	return out
}

type relTypesOut struct {
	Body struct {
		Items []RelationType `json:"items"`
	}
}

type relTypeCreateIn struct {
	Body struct {
		Name         string `json:"name" maxLength:"63"`
		Label        string `json:"label" maxLength:"200"`
		InverseLabel string `json:"inverseLabel,omitempty" maxLength:"200"`
		Propagation  string `json:"propagation" enum:"none,to_source,to_target,both"`
		Redundancy   bool   `json:"redundancy,omitempty"`
	}
}

type relTypePatchIn struct {
	ClassNamePath
	IfMatchHeader
	Body struct {
		Label        *string `json:"label,omitempty" maxLength:"200"`
		InverseLabel *string `json:"inverseLabel,omitempty" maxLength:"200"`
		Propagation  *string `json:"propagation,omitempty" enum:"none,to_source,to_target,both"`
		Redundancy   *bool   `json:"redundancy,omitempty"`
	}
}

func registerClasses(a *httpx.API, s *Service) {
	httpx.Register(a, huma.Operation{OperationID: "list-ci-classes", Method: http.MethodGet, Path: "/api/v1/ci-classes",
		Summary: "The CI class tree, parents first, with inherited attributes", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*classesOut, error) {
			cs, err := s.Classes(ctx)
			if err != nil {
				return nil, err
			}
			out := &classesOut{}
			out.Body.Items = cs
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-ci-class", Method: http.MethodGet, Path: "/api/v1/ci-classes/{name}",
		Summary: "A CI class with its own and inherited attributes", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *ClassNamePath) (*httpx.One[Class], error) {
			c, err := s.Class(ctx, in.Name)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Class]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-ci-class", Method: http.MethodPost, Path: "/api/v1/ci-classes",
		Summary: "Add a CI class under a parent, with typed attributes", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Performs CfM1 (configuration management framework): you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *classCreateIn) (*httpx.One[Class], error) {
			b := in.Body
			c, err := s.CreateClass(ctx, NewClass{Name: b.Name, Label: b.Label, Parent: b.Parent, Description: b.Description, Abstract: b.Abstract, Attributes: attributes(b.Attributes)})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Class]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-ci-class-attribute", Method: http.MethodPost, Path: "/api/v1/ci-classes/{name}/attributes",
		Summary: "Add a typed attribute to a class and its subclasses", Tags: tags,
		Description: "Performs CfM1. A required attribute can be added only to a class without CIs (409 otherwise)."},
		httpx.Authenticated, func(ctx context.Context, in *attributeIn) (*httpx.One[Class], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			c, err := s.AddAttribute(ctx, in.Name, v, in.Body.attribute())
			if err != nil {
				return nil, err
			}
			return &httpx.One[Class]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-ci-relation-types", Method: http.MethodGet, Path: "/api/v1/ci-relation-types",
		Summary: "Relation types with their failure propagation rules", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*relTypesOut, error) {
			ts, err := s.RelationTypes(ctx)
			if err != nil {
				return nil, err
			}
			out := &relTypesOut{}
			out.Body.Items = ts
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-ci-relation-type", Method: http.MethodPost, Path: "/api/v1/ci-relation-types",
		Summary: "Add a relation type", Tags: tags, DefaultStatus: http.StatusCreated, Description: "Performs CfM1."},
		httpx.Authenticated, func(ctx context.Context, in *relTypeCreateIn) (*httpx.One[RelationType], error) {
			b := in.Body
			t, err := s.CreateRelationType(ctx, RelationType{Name: b.Name, Label: b.Label, InverseLabel: b.InverseLabel, Propagation: b.Propagation, Redundancy: b.Redundancy})
			if err != nil {
				return nil, err
			}
			return &httpx.One[RelationType]{ETag: httpx.ETag(t.Version), Body: t}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-ci-relation-type", Method: http.MethodPatch, Path: "/api/v1/ci-relation-types/{name}",
		Summary: "Change a relation type's labels or propagation rule", Tags: tags, Description: "Performs CfM1."},
		httpx.Authenticated, func(ctx context.Context, in *relTypePatchIn) (*httpx.One[RelationType], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			t, err := s.UpdateRelationType(ctx, in.Name, v, RelationTypeUpdate{Label: b.Label, InverseLabel: b.InverseLabel, Propagation: b.Propagation, Redundancy: b.Redundancy})
			if err != nil {
				return nil, err
			}
			return &httpx.One[RelationType]{ETag: httpx.ETag(t.Version), Body: t}, nil
		})
}

type ciListIn struct {
	listing.Params
	Class  string `query:"class" maxLength:"63" doc:"Only CIs of this class and its subclasses."`
	Status string `query:"status" maxLength:"20" doc:"Only CIs in this lifecycle status."`
	Name   string `query:"name" maxLength:"200" doc:"Only CIs whose name starts with this."`
	Attr   string `query:"attr" maxLength:"63" doc:"With value: only CIs whose indexed attribute attr equals value (case-insensitive)."`
	Value  string `query:"value" maxLength:"1000" doc:"The value of attr."`
}

func (in *ciListIn) filter() CIFilter {
	return CIFilter{Class: in.Class, Status: Status(in.Status), Name: in.Name, Attr: in.Attr, Value: in.Value}
}

func (in *ciListIn) query() url.Values {
	return url.Values{"class": {in.Class}, "status": {in.Status}, "name": {in.Name}, "attr": {in.Attr}, "value": {in.Value}}
}

type ciCreateIn struct {
	Body struct {
		Class      string         `json:"class" maxLength:"63" doc:"The class, by name."`
		Name       string         `json:"name" maxLength:"200"`
		Status     Status         `json:"status,omitempty" enum:"planned,ordered,build,test,operational,maintenance,retired,disposed" doc:"operational when absent."`
		MinUp      int64          `json:"minUp,omitempty" minimum:"0" doc:"For a redundant group (cluster): it stays up while at least minUp members are up; 1 when absent."`
		Marking    string         `json:"marking,omitempty" maxLength:"64"`
		Attributes map[string]any `json:"attributes,omitempty" doc:"Attribute values by name, typed as the class declares."`
	}
}

type CIPatch struct {
	Name       *string        `json:"name,omitempty" maxLength:"200"`
	Status     *Status        `json:"status,omitempty" enum:"planned,ordered,build,test,operational,maintenance,retired,disposed"`
	MinUp      *int64         `json:"minUp,omitempty" minimum:"1"`
	Marking    *string        `json:"marking,omitempty" maxLength:"64"`
	Attributes map[string]any `json:"attributes,omitempty" doc:"Attributes to set; null removes one. Others are kept."`
	ChangeRef  string         `json:"changeRef,omitempty" maxLength:"32" doc:"The approved change (RFC number) that authorises this; without one the change is flagged as unauthorised."`
}

func (p CIPatch) update() CIUpdate {
	return CIUpdate{Name: p.Name, Status: p.Status, MinUp: p.MinUp, Marking: p.Marking, Attrs: p.Attributes, ChangeRef: p.ChangeRef}
}

type ciPatchIn struct {
	IDPath
	IfMatchHeader
	Body CIPatch
}

type relationsIn struct {
	IDPath
	At string `query:"at" maxLength:"40" doc:"RFC 3339 time: the relations as they were then."`
}

type relationCreateIn struct {
	IDPath
	Body struct {
		Type      string `json:"type" maxLength:"63" doc:"The relation type, read from this CI: depends_on, runs_on, member_of…"`
		TargetID  int64  `json:"targetId" minimum:"1" doc:"The CI at the other end."`
		ChangeRef string `json:"changeRef,omitempty" maxLength:"32"`
	}
}

type relationDeleteIn struct {
	IDPath
	RelationID int64  `path:"relationId" minimum:"1"`
	ChangeRef  string `query:"changeRef" maxLength:"32" doc:"The approved change that authorises ending it."`
}

type relationOne struct{ Body Relation }
type relationsOut struct{ Body Relations }

type historyIn struct {
	IDPath
	At string `query:"at" maxLength:"40" doc:"RFC 3339 time: the CI and its relations as they were then. Without it, every version with its changes."`
}

type historyOut struct {
	Body struct {
		Snapshot *Snapshot `json:"snapshot,omitempty"`
		Versions []Version `json:"versions,omitempty"`
	}
}

// parseAt reads an optional RFC 3339 time parameter.
func parseAt(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, errs.Field(field, "expected an RFC 3339 time such as 2026-01-31T12:00:00Z", v)
	}
	return t, nil
}

type unauthorisedIn struct {
	listing.Params
	CIID int64 `query:"ciId" minimum:"0" doc:"Only this CI's flags."`
	Open bool  `query:"open" doc:"Only unresolved flags."`
}

type resolveIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Resolution string `json:"resolution" maxLength:"2000" doc:"How it was resolved: authorised retrospectively by RFC…, reverted…"`
	}
}

func registerCIs(a *httpx.API, s *Service) {
	httpx.Register(a, huma.Operation{OperationID: "list-cis", Method: http.MethodGet, Path: "/api/v1/cis",
		Summary: "Configuration items, filtered by class (with subclasses), status, name prefix or an indexed attribute", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *ciListIn) (*httpx.Page[CI], error) {
			p, total, err := s.ListCIs(ctx, in.filter(), in.Params)
			if err != nil {
				return nil, err
			}
			return &httpx.Page[CI]{TotalCount: total, Link: listing.NextLink("/api/v1/cis", in.Params, in.query(), p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-ci", Method: http.MethodPost, Path: "/api/v1/cis",
		Summary: "Register a configuration item", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Performs CfM2 (configuration identification). Attributes are checked against the class: a wrong type or a missing required attribute is 422 naming it."},
		httpx.Authenticated, func(ctx context.Context, in *ciCreateIn) (*httpx.One[CI], error) {
			b := in.Body
			c, err := s.CreateCI(ctx, NewCI{Class: b.Class, Name: b.Name, Status: b.Status, MinUp: b.MinUp, Marking: b.Marking, Attrs: b.Attributes})
			if err != nil {
				return nil, err
			}
			return &httpx.One[CI]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-ci", Method: http.MethodGet, Path: "/api/v1/cis/{id}",
		Summary: "A configuration item", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*httpx.One[CI], error) {
			c, err := s.GetCI(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &httpx.One[CI]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-ci", Method: http.MethodPatch, Path: "/api/v1/cis/{id}",
		Summary: "Change a configuration item", Tags: tags,
		Description: "Performs CfM3 (configuration control). The old version is kept (see history). Without an approved changeRef the change is flagged as unauthorised."},
		httpx.Authenticated, func(ctx context.Context, in *ciPatchIn) (*httpx.One[CI], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			c, err := s.UpdateCI(ctx, in.ID, v, in.Body.update())
			if err != nil {
				return nil, err
			}
			return &httpx.One[CI]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-ci-relations", Method: http.MethodGet, Path: "/api/v1/cis/{id}/relations",
		Summary: "A CI's relations, outgoing and incoming, now or at a past time", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *relationsIn) (*relationsOut, error) {
			at, err := parseAt("query.at", in.At)
			if err != nil {
				return nil, err
			}
			rs, err := s.Relations(ctx, in.ID, at)
			if err != nil {
				return nil, err
			}
			return &relationsOut{Body: rs}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-ci-relation", Method: http.MethodPost, Path: "/api/v1/cis/{id}/relations",
		Summary: "Relate this CI to another", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Performs CfM3. A CI cannot relate to itself (422); a relation that exists is 409."},
		httpx.Authenticated, func(ctx context.Context, in *relationCreateIn) (*relationOne, error) {
			r, err := s.AddRelation(ctx, NewRelation{SourceID: in.ID, Type: in.Body.Type, TargetID: in.Body.TargetID, ChangeRef: in.Body.ChangeRef})
			if err != nil {
				return nil, err
			}
			return &relationOne{Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-ci-relation", Method: http.MethodDelete, Path: "/api/v1/cis/{id}/relations/{relationId}",
		Summary: "End a relation; it stays in the history", Tags: tags, DefaultStatus: http.StatusNoContent, Description: "Performs CfM3."},
		httpx.Authenticated, func(ctx context.Context, in *relationDeleteIn) (*struct{}, error) {
			return nil, s.RemoveRelation(ctx, in.RelationID, in.ChangeRef)
		})
	httpx.Register(a, huma.Operation{OperationID: "get-ci-history", Method: http.MethodGet, Path: "/api/v1/cis/{id}/history",
		Summary: "A CI's versions with their changes, or the CI and its relations as they were at a time", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *historyIn) (*historyOut, error) {
			at, err := parseAt("query.at", in.At)
			if err != nil {
				return nil, err
			}
			out := &historyOut{}
			if !at.IsZero() {
				snap, err := s.CIAt(ctx, in.ID, at)
				if err != nil {
					return nil, err
				}
				out.Body.Snapshot = &snap
				return out, nil
			}
			out.Body.Versions, err = s.Versions(ctx, in.ID)
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "list-unauthorised-changes", Method: http.MethodGet, Path: "/api/v1/unauthorised-changes",
		Summary: "Changes to CIs made with no approved change linked", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *unauthorisedIn) (*httpx.Page[UnauthorisedChange], error) {
			p, total, err := s.UnauthorisedChanges(ctx, UnauthorisedFilter{CIID: in.CIID, Open: in.Open}, in.Params)
			if err != nil {
				return nil, err
			}
			q := url.Values{"ciId": {strconv.FormatInt(in.CIID, 10)}}
			if in.Open {
				q.Set("open", "true")
			}
			return &httpx.Page[UnauthorisedChange]{TotalCount: total, Link: listing.NextLink("/api/v1/unauthorised-changes", in.Params, q, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "resolve-unauthorised-change", Method: http.MethodPost, Path: "/api/v1/unauthorised-changes/{id}/resolve",
		Summary: "Close an unauthorised-change flag with its outcome", Tags: tags, Description: "Performs CfM5 (verification and audit)."},
		httpx.Authenticated, func(ctx context.Context, in *resolveIn) (*httpx.One[UnauthorisedChange], error) {
			u, err := s.ResolveUnauthorised(ctx, in.ID, in.Body.Resolution)
			if err != nil {
				return nil, err
			}
			return &httpx.One[UnauthorisedChange]{Body: u}, nil
		})
}

type impactIn struct {
	IDPath
	Direction string `query:"direction" enum:"down,up" default:"down" doc:"down: what fails if this CI fails; up: what it depends on."`
	Depth     int    `query:"depth" minimum:"0" maximum:"1000" doc:"At most this many hops; 0 or absent: no limit."`
	Types     string `query:"types" maxLength:"1000" doc:"Comma-separated relation types to follow; all when absent."`
}

type simulateIn struct {
	Body struct {
		CIs   []int64  `json:"cis" minItems:"1" maxItems:"10000" doc:"The CIs that fail."`
		Depth int      `json:"depth,omitempty" minimum:"0" maximum:"1000"`
		Types []string `json:"types,omitempty" maxItems:"100"`
	}
}

type impactOut struct{ Body Impact }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func registerImpact(a *httpx.API, s *Service) {
	httpx.Register(a, huma.Operation{OperationID: "get-ci-impact", Method: http.MethodGet, Path: "/api/v1/cis/{id}/impact",
		Summary: "Impact analysis of one CI: downstream (what fails or degrades, honouring cluster redundancy) or upstream (what it depends on)", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *impactIn) (*impactOut, error) {
			res, err := s.Analyze(ctx, ImpactQuery{CIs: []int64{in.ID}, Direction: in.Direction, Depth: in.Depth, Types: splitList(in.Types)})
			if err != nil {
				if e := (*errs.Error)(nil); errors.As(err, &e) && e.Kind == errs.Invalid && len(e.Fields) == 1 && e.Fields[0].Location == "cis" {
					return nil, errs.E(errs.NotFound, "no CI with id %d", in.ID)
				}
				return nil, err
			}
			return &impactOut{Body: res}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "simulate-impact", Method: http.MethodPost, Path: "/api/v1/impact/simulate",
		Summary: "What-if outage: what fails or degrades if these CIs fail together", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *simulateIn) (*impactOut, error) {
			res, err := s.Analyze(ctx, ImpactQuery{CIs: in.Body.CIs, Direction: Downstream, Depth: in.Body.Depth, Types: in.Body.Types})
			if err != nil {
				return nil, err
			}
			return &impactOut{Body: res}, nil
		})
}

type serviceListIn struct {
	listing.Params
	Kind        string `query:"kind" enum:"business,technical," doc:"Only business or technical services."`
	Criticality string `query:"criticality" maxLength:"40" doc:"Only services of this criticality."`
	Partner     string `query:"missionPartner" maxLength:"200" doc:"Only services this mission partner consumes."`
	Name        string `query:"name" maxLength:"200" doc:"Only services whose name starts with this."`
}

type serviceCreateIn struct {
	Body struct {
		Name        string         `json:"name" maxLength:"200"`
		Kind        string         `json:"kind" enum:"business,technical"`
		Criticality Criticality    `json:"criticality,omitempty" enum:"mission_critical,mission_essential,mission_support,administrative"`
		Status      Status         `json:"status,omitempty" enum:"planned,ordered,build,test,operational,maintenance,retired,disposed"`
		Marking     string         `json:"marking,omitempty" maxLength:"64"`
		Attributes  map[string]any `json:"attributes,omitempty"`
		OwnerID     int64          `json:"ownerId,omitempty" minimum:"0" doc:"The user who holds the service-owner role for it."`
		ManagerID   int64          `json:"managerId,omitempty" minimum:"0" doc:"The user who holds the service-manager role for it."`
		Partners    []string       `json:"missionPartners,omitempty" maxItems:"500" doc:"The mission partners (customers) it serves."`
	}
}

type servicePatchIn struct {
	IDPath
	IfMatchHeader
	Body struct {
		CIPatch
		Criticality *Criticality `json:"criticality,omitempty" enum:"mission_critical,mission_essential,mission_support,administrative"`
		OwnerID     *int64       `json:"ownerId,omitempty" minimum:"0" doc:"0 removes the owner."`
		ManagerID   *int64       `json:"managerId,omitempty" minimum:"0" doc:"0 removes the manager."`
		Partners    *[]string    `json:"missionPartners,omitempty" maxItems:"500"`
	}
}

func registerServices(a *httpx.API, s *Service) {
	httpx.Register(a, huma.Operation{OperationID: "list-services", Method: http.MethodGet, Path: "/api/v1/services",
		Summary: "Business and technical services with owner, manager, criticality and mission partners", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *serviceListIn) (*httpx.Page[ServiceCI], error) {
			p, total, err := s.ListServices(ctx, ServiceFilter{Kind: in.Kind, Criticality: Criticality(in.Criticality), Partner: in.Partner, Name: in.Name}, in.Params)
			if err != nil {
				return nil, err
			}
			q := url.Values{"kind": {in.Kind}, "criticality": {in.Criticality}, "missionPartner": {in.Partner}, "name": {in.Name}}
			return &httpx.Page[ServiceCI]{TotalCount: total, Link: listing.NextLink("/api/v1/services", in.Params, q, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-service", Method: http.MethodPost, Path: "/api/v1/services",
		Summary: "Register a service with its owner, manager and mission partners", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Performs CfM2. The owner and manager become holders of the service-owner and service-manager roles scoped to the service, in the same transaction."},
		httpx.Authenticated, func(ctx context.Context, in *serviceCreateIn) (*httpx.One[ServiceCI], error) {
			b := in.Body
			sc, err := s.CreateService(ctx, NewService{Name: b.Name, Kind: b.Kind, Criticality: b.Criticality, Status: b.Status, Marking: b.Marking,
				Attrs: b.Attributes, OwnerID: b.OwnerID, ManagerID: b.ManagerID, Partners: b.Partners})
			if err != nil {
				return nil, err
			}
			return &httpx.One[ServiceCI]{ETag: httpx.ETag(sc.Version), Body: sc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-service", Method: http.MethodGet, Path: "/api/v1/services/{id}",
		Summary: "A service", Tags: tags},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*httpx.One[ServiceCI], error) {
			sc, err := s.GetService(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &httpx.One[ServiceCI]{ETag: httpx.ETag(sc.Version), Body: sc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-service", Method: http.MethodPatch, Path: "/api/v1/services/{id}",
		Summary: "Change a service: its CI fields, criticality, owner, manager or mission partners", Tags: tags,
		Description: "Performs CfM3; the service's owner and manager may do it for their service when the CfM RACI gives their role R or A."},
		httpx.Authenticated, func(ctx context.Context, in *servicePatchIn) (*httpx.One[ServiceCI], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			sc, err := s.UpdateService(ctx, in.ID, v, ServiceUpdate{CIUpdate: b.CIPatch.update(), Criticality: b.Criticality, OwnerID: b.OwnerID, ManagerID: b.ManagerID, Partners: b.Partners})
			if err != nil {
				return nil, err
			}
			return &httpx.One[ServiceCI]{ETag: httpx.ETag(sc.Version), Body: sc}, nil
		})
}
