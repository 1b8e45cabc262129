// Package cmdb is configuration management (DESMF CfM) and the configuration
// management database: CI classes with inheritance and typed attributes,
// configuration items, typed directed relations with failure propagation,
// services with their owners and mission partners, impact analysis, the
// history of every CI and relation, baselines, verification audits against
// discovery data, and unauthorised-change detection.
package cmdb

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// The CfM activities the RACI guard decides on.
const (
	// ActFramework (CfM1) governs the class model: classes, attributes, relation types.
	ActFramework = "CfM1"
	// ActIdentify (CfM2) registers CIs and services.
	ActIdentify = "CfM2"
	// ActControl (CfM3) changes CIs, their relations and their status, and takes baselines.
	ActControl = "CfM3"
	// ActVerify (CfM5) runs verification audits and resolves unauthorised-change flags.
	ActVerify = "CfM5"
)

// Process is the DESMF process code of configuration management.
const Process = "CfM"

// AttrType is the type of a class attribute's values.
type AttrType string

// The attribute types.
const (
	TypeString    AttrType = "string"
	TypeText      AttrType = "text"
	TypeInteger   AttrType = "integer"
	TypeNumber    AttrType = "number"
	TypeBoolean   AttrType = "boolean"
	TypeDate      AttrType = "date"
	TypeDateTime  AttrType = "datetime"
	TypeEnum      AttrType = "enum"
	TypeReference AttrType = "reference"
)

var attrTypes = []AttrType{TypeString, TypeText, TypeInteger, TypeNumber, TypeBoolean, TypeDate, TypeDateTime, TypeEnum, TypeReference}

// Attribute is a typed attribute a class declares; its subclasses inherit it.
type Attribute struct {
	ID      int64    `json:"id"`
	ClassID int64    `json:"classId"`
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Type    AttrType `json:"type" enum:"string,text,integer,number,boolean,date,datetime,enum,reference"`
	// Required attributes must have a non-empty value.
	Required bool `json:"required"`
	// Unique values may appear once in the declaring class and its subclasses.
	Unique bool `json:"unique"`
	// Indexed values can be searched and used by identification rules without a scan.
	Indexed bool `json:"indexed"`
	// Enum lists the allowed values of an enum attribute.
	Enum []string `json:"enum,omitempty"`
	// RefClass is the class (or an ancestor of the class) a reference must point at, by name.
	RefClass string `json:"refClass,omitempty"`
	// RefClassID is RefClass's id.
	RefClassID int64 `json:"-"`
	Position   int64 `json:"position"`
}

// Class is a CI class. It inherits every attribute of its ancestors.
type Class struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Label       string `json:"label"`
	Parent      string `json:"parent,omitempty"`
	ParentID    int64  `json:"parentId,omitempty"`
	Description string `json:"description,omitempty"`
	// Abstract classes group others; no CI has one as its class.
	Abstract bool `json:"abstract"`
	// Builtin classes ship with Steward and cannot be removed.
	Builtin bool `json:"builtin"`
	// Attributes are the class's own and inherited attributes, ancestors' first.
	Attributes []Attribute `json:"attributes"`
	Version    int64       `json:"version"`
}

var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// ValidName checks a stable machine name of a class, attribute or relation type.
func ValidName(field, name string) *errs.FieldError {
	if !namePattern.MatchString(name) {
		return &errs.FieldError{Location: field, Message: "a name is a lower-case letter followed by up to 62 lower-case letters, digits or underscores", Value: name}
	}
	return nil
}

// validLabel checks a label people read.
func validLabel(field, label string) *errs.FieldError {
	if n := utf8.RuneCountInString(strings.TrimSpace(label)); n == 0 || n > 200 {
		return &errs.FieldError{Location: field, Message: "a label has 1 to 200 characters"}
	}
	return nil
}

// Validate checks an attribute definition on its own.
func (a *Attribute) Validate(field string) []errs.FieldError {
	var fe []errs.FieldError
	if e := ValidName(field+".name", a.Name); e != nil {
		fe = append(fe, *e)
	}
	if slices.Contains(reservedAttrs, a.Name) {
		fe = append(fe, errs.FieldError{Location: field + ".name", Message: a.Name + " is a field of every CI, not an attribute", Value: a.Name})
	}
	if a.Label == "" {
		a.Label = a.Name
	}
	if e := validLabel(field+".label", a.Label); e != nil {
		fe = append(fe, *e)
	}
	if !slices.Contains(attrTypes, a.Type) {
		fe = append(fe, errs.FieldError{Location: field + ".type", Message: "unknown attribute type", Value: a.Type})
	}
	if a.Type == TypeEnum {
		if len(a.Enum) == 0 || len(a.Enum) > 200 {
			fe = append(fe, errs.FieldError{Location: field + ".enum", Message: "an enum attribute lists 1 to 200 values"})
		}
		seen := map[string]bool{}
		for _, v := range a.Enum {
			if v == "" || utf8.RuneCountInString(v) > 100 || seen[v] {
				fe = append(fe, errs.FieldError{Location: field + ".enum", Message: "enum values are distinct, 1 to 100 characters", Value: v})
				break
			}
			seen[v] = true
		}
	} else if len(a.Enum) > 0 {
		fe = append(fe, errs.FieldError{Location: field + ".enum", Message: "only an enum attribute lists values"})
	}
	if a.Type == TypeReference && a.RefClass == "" {
		fe = append(fe, errs.FieldError{Location: field + ".refClass", Message: "a reference attribute names the class it points at"})
	}
	if a.Type != TypeReference && a.RefClass != "" {
		fe = append(fe, errs.FieldError{Location: field + ".refClass", Message: "only a reference attribute names a class"})
	}
	if a.Unique && (a.Type == TypeText || a.Type == TypeBoolean) {
		fe = append(fe, errs.FieldError{Location: field + ".unique", Message: "text and boolean attributes cannot be unique"})
	}
	if a.Unique {
		a.Indexed = true
	}
	return fe
}

// reservedAttrs are the fields of every CI, which no attribute may shadow.
var reservedAttrs = []string{"id", "class", "name", "status", "marking", "min_up", "version"}

// Status is the lifecycle status of a CI (DESMF CfM3, configuration control).
type Status string

// The CI lifecycle.
const (
	StatusPlanned     Status = "planned"
	StatusOrdered     Status = "ordered"
	StatusBuild       Status = "build"
	StatusTest        Status = "test"
	StatusOperational Status = "operational"
	StatusMaintenance Status = "maintenance"
	StatusRetired     Status = "retired"
	StatusDisposed    Status = "disposed"
)

// Statuses lists the lifecycle in order.
var Statuses = []Status{StatusPlanned, StatusOrdered, StatusBuild, StatusTest, StatusOperational, StatusMaintenance, StatusRetired, StatusDisposed}

// lifecycle says which statuses a CI may move to from each status.
var lifecycle = map[Status][]Status{
	StatusPlanned:     {StatusOrdered, StatusBuild, StatusOperational, StatusRetired},
	StatusOrdered:     {StatusBuild, StatusTest, StatusOperational, StatusRetired},
	StatusBuild:       {StatusTest, StatusOperational, StatusRetired},
	StatusTest:        {StatusBuild, StatusOperational, StatusRetired},
	StatusOperational: {StatusMaintenance, StatusRetired},
	StatusMaintenance: {StatusOperational, StatusRetired},
	StatusRetired:     {StatusOperational, StatusDisposed},
	StatusDisposed:    {},
}

// CheckStatusChange refuses a move the lifecycle does not allow, naming the allowed ones.
func CheckStatusChange(from, to Status) error {
	if !slices.Contains(Statuses, to) {
		return errs.Field("body.status", "unknown status; the lifecycle is "+statusList(Statuses), to)
	}
	if from == to {
		return nil
	}
	next := lifecycle[from]
	if !slices.Contains(next, to) {
		if len(next) == 0 {
			return errs.E(errs.Conflict, "a %s CI cannot change status", from)
		}
		return errs.E(errs.Conflict, "a %s CI cannot become %s; it may become %s", from, to, statusList(next))
	}
	return nil
}

func statusList(ss []Status) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// Attrs are a CI's attribute values by attribute name, as JSON values.
type Attrs map[string]any

// CI is a configuration item as it is now (or was at a time, in history).
type CI struct {
	ID      int64  `json:"id"`
	Class   string `json:"class"`
	ClassID int64  `json:"classId"`
	Name    string `json:"name"`
	Status  Status `json:"status"`
	// MinUp is the redundancy threshold when the CI is a group (a cluster):
	// it stays up, degraded, while at least MinUp of its members are up.
	MinUp   int64  `json:"minUp"`
	Attrs   Attrs  `json:"attributes"`
	Marking string `json:"marking"`
	Version int64  `json:"version"`
	// ValidFrom is when this version began.
	ValidFrom time.Time `json:"validFrom"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedBy int64     `json:"createdBy,omitempty"`
	UpdatedBy int64     `json:"updatedBy,omitempty"`
}

// NewCI is what a CI is created from.
type NewCI struct {
	Class   string
	Name    string
	Status  Status
	MinUp   int64
	Attrs   Attrs
	Marking string
}

// CIUpdate holds the fields of a CI to change; nil leaves a field as it is.
// Attrs merges: a key set to null removes the attribute.
type CIUpdate struct {
	Name    *string
	Status  *Status
	MinUp   *int64
	Marking *string
	Attrs   Attrs
	// ChangeRef names the approved change (an RFC number) that authorises this
	// change; without one the change is flagged as unauthorised.
	ChangeRef string
}

var markingPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 /,()-]{0,63}$`)

// checkCore checks and normalises the fields every CI has.
func checkCore(name *string, status Status, minUp int64, marking *string) []errs.FieldError {
	var fe []errs.FieldError
	*name = strings.TrimSpace(*name)
	if n := utf8.RuneCountInString(*name); n == 0 || n > 200 || hasControl(*name, false) || !utf8.ValidString(*name) {
		fe = append(fe, errs.FieldError{Location: "body.name", Message: "a name has 1 to 200 printable characters"})
	}
	if !slices.Contains(Statuses, status) {
		fe = append(fe, errs.FieldError{Location: "body.status", Message: "unknown status; the lifecycle is " + statusList(Statuses), Value: status})
	}
	if minUp < 1 || minUp > 1_000_000 {
		fe = append(fe, errs.FieldError{Location: "body.minUp", Message: "minUp is at least 1", Value: minUp})
	}
	if *marking == "" {
		*marking = "UNCLASSIFIED"
	}
	if !markingPattern.MatchString(*marking) {
		fe = append(fe, errs.FieldError{Location: "body.marking", Message: "a marking is upper-case letters, digits and / , ( ) -", Value: *marking})
	}
	return fe
}

// Ref is a reference attribute value waiting to be checked against the database.
type Ref struct {
	Attr  *Attribute
	CI    int64
	Field string
}

// CheckAttrs validates values against the class's attributes, normalising
// them in place (integers become int64, dates stay strings). It returns the
// references to check for existence and class. partial skips the required
// check for attributes absent from values (a merge into existing values).
func CheckAttrs(c *Class, values Attrs, field string, partial bool) ([]Ref, []errs.FieldError) {
	var fe []errs.FieldError
	var refs []Ref
	byName := make(map[string]*Attribute, len(c.Attributes))
	for i := range c.Attributes {
		byName[c.Attributes[i].Name] = &c.Attributes[i]
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		a, ok := byName[k]
		loc := field + "." + k
		if !ok {
			fe = append(fe, errs.FieldError{Location: loc, Message: "class " + c.Name + " has no attribute " + k})
			continue
		}
		v, err := normalise(a, values[k])
		if err != "" {
			fe = append(fe, errs.FieldError{Location: loc, Message: err, Value: values[k]})
			continue
		}
		if v == nil {
			delete(values, k)
			continue
		}
		values[k] = v
		if a.Type == TypeReference {
			refs = append(refs, Ref{Attr: a, CI: v.(int64), Field: loc})
		}
	}
	if partial {
		return refs, fe
	}
	return refs, append(fe, MissingRequired(c, values, field)...)
}

// MissingRequired reports the required attributes of c absent from values.
func MissingRequired(c *Class, values Attrs, field string) []errs.FieldError {
	var fe []errs.FieldError
	for i := range c.Attributes {
		a := &c.Attributes[i]
		if a.Required {
			if _, ok := values[a.Name]; !ok {
				fe = append(fe, errs.FieldError{Location: field + "." + a.Name, Message: "attribute " + a.Name + " (" + string(a.Type) + ") is required for class " + c.Name})
			}
		}
	}
	return fe
}

// normalise checks one value against its attribute and returns it in stored
// form; nil (or an empty string) means no value. A non-empty string is the problem.
func normalise(a *Attribute, v any) (any, string) {
	if v == nil {
		return nil, ""
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" && a.Type != TypeText {
		return nil, ""
	}
	switch a.Type {
	case TypeString, TypeText:
		s, ok := v.(string)
		if !ok {
			return nil, "expected a string"
		}
		max := 1000
		if a.Type == TypeText {
			max = 32000
		} else {
			s = strings.TrimSpace(s)
			if strings.ContainsAny(s, "\r\n") {
				return nil, "a string attribute is one line; use a text attribute for more"
			}
		}
		if utf8.RuneCountInString(s) > max {
			return nil, fmt.Sprintf("at most %d characters", max)
		}
		if !utf8.ValidString(s) || hasControl(s, a.Type == TypeText) {
			return nil, "control characters are not allowed"
		}
		if s == "" {
			return nil, ""
		}
		return s, ""
	case TypeInteger, TypeReference:
		n, ok := asNumber(v)
		if !ok || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			if a.Type == TypeReference {
				return nil, "expected the id of a CI"
			}
			return nil, "expected an integer"
		}
		if a.Type == TypeReference && n < 1 {
			return nil, "expected the id of a CI"
		}
		return int64(n), ""
	case TypeNumber:
		n, ok := asNumber(v)
		if !ok || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, "expected a number"
		}
		return n, ""
	case TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, ""
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true", "yes", "1":
				return true, ""
			case "false", "no", "0":
				return false, ""
			}
		}
		return nil, "expected true or false"
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, "expected a date (YYYY-MM-DD)"
		}
		if _, err := time.Parse(time.DateOnly, strings.TrimSpace(s)); err != nil {
			return nil, "expected a date (YYYY-MM-DD)"
		}
		return strings.TrimSpace(s), ""
	case TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, "expected a date and time (RFC 3339)"
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			return nil, "expected a date and time (RFC 3339)"
		}
		return t.UTC().Format(time.RFC3339), ""
	case TypeEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(a.Enum, strings.TrimSpace(s)) {
			return nil, "expected one of " + strings.Join(a.Enum, ", ")
		}
		return strings.TrimSpace(s), ""
	}
	return nil, "unknown attribute type"
}

// hasControl reports a control character other than tab (and, in multi-line
// text, line breaks): NUL, escape sequences and the like never belong in a CI.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if r == '\t' || multiline && (r == '\n' || r == '\r') {
			continue
		}
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// asNumber reads a JSON number, or a string holding one (CSV imports).
func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}

// IndexValue is the canonical text of a value in ci_attr_values.
func IndexValue(v any) string {
	switch x := v.(type) {
	case string:
		return strings.ToLower(strings.TrimSpace(x))
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// Relation is a current or past relation source —type→ target.
type Relation struct {
	ID       int64  `json:"id"`
	SourceID int64  `json:"sourceId"`
	Type     string `json:"type"`
	TargetID int64  `json:"targetId"`
	// Label reads the relation from the CI it was asked for: "depends on" or "used by".
	Label string `json:"label,omitempty"`
	// Other is the CI at the other end, from the CI it was asked for.
	Other     *CIRef    `json:"other,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	EndedAt   time.Time `json:"endedAt,omitzero"`
}

// CIRef names a CI briefly.
type CIRef struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Class  string `json:"class"`
	Status Status `json:"status"`
}

// RelationType is a kind of relation with its failure propagation.
type RelationType struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Label        string `json:"label"`
	InverseLabel string `json:"inverseLabel"`
	// Propagation says which end a failure travels to: to_source (the target failing impacts the source),
	// to_target, both, or none.
	Propagation string `json:"propagation" enum:"none,to_source,to_target,both"`
	// Redundancy makes the target a group whose members' failures count against its minUp.
	Redundancy bool  `json:"redundancy"`
	Builtin    bool  `json:"builtin"`
	Version    int64 `json:"version"`
}
