package request

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/errs"
)

func locations(err error) []string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func f64(v float64) *float64 { return &v }

func validItem() CatalogItem {
	return CatalogItem{Name: "New laptop", Category: "hardware", ServiceID: 7, TargetHours: 40, Form: Form{
		Variables: []FormVariable{{Name: "model", Type: Choice, Choices: []string{"13-inch", "15-inch"}, Required: true},
			{Name: "monitors", Type: Number, Min: f64(0), Max: f64(2)}},
		Approvals: []CatalogApproval{{Kind: ManagerApproval}, {Kind: GroupApproval, TeamID: 3}},
		Tasks:     []CatalogTask{{Name: "Image", TeamID: 1, Stage: 1}, {Name: "Port", TeamID: 2, Stage: 1}, {Name: "Hand over", TeamID: 1, Stage: 2}},
	}}
}

func TestValidateItem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(it *CatalogItem)
		want []string
	}{
		{"valid", func(*CatalogItem) {}, nil},
		{"no approval is one level of kind none", func(it *CatalogItem) { it.Approvals = []CatalogApproval{{Kind: NoApproval}} }, nil},
		{"blank name", func(it *CatalogItem) { it.Name = "  " }, []string{"body.name"}},
		{"bad category", func(it *CatalogItem) { it.Category = "Hard Ware" }, []string{"body.category"}},
		{"no service", func(it *CatalogItem) { it.ServiceID = 0 }, []string{"body.serviceId"}},
		{"negative target", func(it *CatalogItem) { it.TargetHours = -1 }, []string{"body.targetHours"}},
		{"bad variable name", func(it *CatalogItem) { it.Variables[0].Name = "Model" }, []string{"body.variables[0].name"}},
		{"duplicate variable", func(it *CatalogItem) { it.Variables[1].Name = "model" }, []string{"body.variables[1].name"}},
		{"unknown type", func(it *CatalogItem) { it.Variables[1].Type = "colour" }, []string{"body.variables[1].type"}},
		{"choice without choices", func(it *CatalogItem) { it.Variables[0].Choices = nil }, []string{"body.variables[0].choices"}},
		{"empty choice", func(it *CatalogItem) { it.Variables[0].Choices = []string{"a", " "} }, []string{"body.variables[0].choices[1]"}},
		{"duplicate choice", func(it *CatalogItem) { it.Variables[0].Choices = []string{"a", "a"} }, []string{"body.variables[0].choices[1]"}},
		{"choices on a number", func(it *CatalogItem) { it.Variables[1].Choices = []string{"1"} }, []string{"body.variables[1].choices"}},
		{"bounds on a choice", func(it *CatalogItem) { it.Variables[0].Min = f64(1) }, []string{"body.variables[0].min"}},
		{"max below min", func(it *CatalogItem) { it.Variables[1].Max = f64(-1) }, []string{"body.variables[1].max"}},
		{"third variable's choices", func(it *CatalogItem) {
			it.Variables = append(it.Variables, FormVariable{Name: "colour", Type: Choice})
		}, []string{"body.variables[2].choices"}},
		{"unknown approval kind", func(it *CatalogItem) { it.Approvals[0].Kind = "boss" }, []string{"body.approvals[0].kind"}},
		{"group without a team", func(it *CatalogItem) { it.Approvals[1].TeamID = 0 }, []string{"body.approvals[1].teamId"}},
		{"team on a manager level", func(it *CatalogItem) { it.Approvals[0].TeamID = 3 }, []string{"body.approvals[0].teamId"}},
		{"none with other levels", func(it *CatalogItem) { it.Approvals[0].Kind = NoApproval }, []string{"body.approvals[0].kind"}},
		{"task without a team", func(it *CatalogItem) { it.Tasks[2].TeamID = 0 }, []string{"body.tasks[2].teamId"}},
		{"task stage 0", func(it *CatalogItem) { it.Tasks[0].Stage = 0 }, []string{"body.tasks[0].stage"}},
		{"task without a name", func(it *CatalogItem) { it.Tasks[1].Name = "" }, []string{"body.tasks[1].name"}},
		{"several at once", func(it *CatalogItem) { it.Name, it.Tasks[0].Stage = "", 101 }, []string{"body.name", "body.tasks[0].stage"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			it := validItem()
			c.edit(&it)
			got := locations(ValidateItem(&it))
			if !slices.Equal(got, c.want) {
				t.Fatalf("locations %v, want %v", got, c.want)
			}
		})
	}
}

func TestValidateItemTidies(t *testing.T) {
	t.Parallel()
	it := validItem()
	it.Name, it.Variables[0].Choices[0] = "  New laptop ", " 13-inch "
	if err := ValidateItem(&it); err != nil {
		t.Fatal(err)
	}
	if it.Name != "New laptop" || it.Variables[0].Choices[0] != "13-inch" || it.Variables[1].Label != "monitors" {
		t.Fatalf("not tidied: %q %q %q", it.Name, it.Variables[0].Choices[0], it.Variables[1].Label)
	}
}

func TestCheckValues(t *testing.T) {
	t.Parallel()
	vars := []FormVariable{
		{Name: "model", Label: "Model", Type: Choice, Choices: []string{"13-inch", "15-inch"}, Required: true},
		{Name: "needed_by", Type: Date, Required: true},
		{Name: "monitors", Type: Number, Min: f64(0), Max: f64(2)},
		{Name: "for_user", Type: UserRef},
		{Name: "replaces", Type: CIRef},
		{Name: "notes", Type: Text},
	}
	good := func() map[string]any {
		return map[string]any{"model": "13-inch", "needed_by": "2025-03-15", "monitors": 2.0, "for_user": 5.0, "replaces": int64(9), "notes": " hi "}
	}
	cases := []struct {
		name string
		edit func(m map[string]any)
		want []string
	}{
		{"valid", func(map[string]any) {}, nil},
		{"optional ones absent", func(m map[string]any) { delete(m, "monitors"); delete(m, "notes"); m["for_user"] = nil }, nil},
		{"required missing", func(m map[string]any) { delete(m, "model") }, []string{"body.variables.model"}},
		{"required blank", func(m map[string]any) { m["needed_by"] = "  " }, []string{"body.variables.needed_by"}},
		{"not a choice", func(m map[string]any) { m["model"] = "17-inch" }, []string{"body.variables.model"}},
		{"bad date", func(m map[string]any) { m["needed_by"] = "15/03/2025" }, []string{"body.variables.needed_by"}},
		{"impossible date", func(m map[string]any) { m["needed_by"] = "2025-02-30" }, []string{"body.variables.needed_by"}},
		{"date as a number", func(m map[string]any) { m["needed_by"] = 20250315.0 }, []string{"body.variables.needed_by"}},
		{"number above max", func(m map[string]any) { m["monitors"] = 3.0 }, []string{"body.variables.monitors"}},
		{"number below min", func(m map[string]any) { m["monitors"] = -1.0 }, []string{"body.variables.monitors"}},
		{"number as text", func(m map[string]any) { m["monitors"] = "two" }, []string{"body.variables.monitors"}},
		{"fractional user id", func(m map[string]any) { m["for_user"] = 1.5 }, []string{"body.variables.for_user"}},
		{"user id as text", func(m map[string]any) { m["for_user"] = "5" }, []string{"body.variables.for_user"}},
		{"zero CI id", func(m map[string]any) { m["replaces"] = 0.0 }, []string{"body.variables.replaces"}},
		{"text as a number", func(m map[string]any) { m["notes"] = 3.0 }, []string{"body.variables.notes"}},
		{"unknown variable", func(m map[string]any) { m["colour"] = "red" }, []string{"body.variables.colour"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := good()
			c.edit(m)
			_, _, err := CheckValues(vars, m)
			if got := locations(err); !slices.Equal(got, c.want) {
				t.Fatalf("locations %v, want %v (%v)", got, c.want, err)
			}
		})
	}
	vals, refs, err := CheckValues(vars, good())
	if err != nil {
		t.Fatal(err)
	}
	if vals["notes"] != "hi" || vals["for_user"] != int64(5) || vals["replaces"] != int64(9) || vals["monitors"] != 2.0 {
		t.Fatalf("values not normalised: %#v", vals)
	}
	if len(refs) != 2 || refs[0] != (ref{name: "for_user", kind: UserRef, id: 5}) || refs[1] != (ref{name: "replaces", kind: CIRef, id: 9}) {
		t.Fatalf("refs %+v", refs)
	}
}

func TestStages(t *testing.T) {
	t.Parallel()
	fm := Form{Tasks: []CatalogTask{{Stage: 20}, {Stage: 10}, {Stage: 20}, {Stage: 10}}}
	if got := fm.stages(); !slices.Equal(got, []int{10, 20}) {
		t.Fatalf("stages %v", got)
	}
	if fm.nextStage(0) != 10 || fm.nextStage(10) != 20 || fm.nextStage(20) != 0 {
		t.Fatal("nextStage walks the stages in order and ends with 0")
	}
	if got := fm.stageTasks(20); !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("stage 20 tasks %v", got)
	}
	if (Form{Approvals: []CatalogApproval{{Kind: NoApproval}}}).levels() != nil {
		t.Fatal("a none level asks nobody")
	}
}

// FuzzCheckValues feeds arbitrary JSON objects to the form check: it never
// panics, refuses only with field errors under body.variables, and what it
// accepts has one value per variable given, of the variable's type.
func FuzzCheckValues(f *testing.F) {
	f.Add(`{"model":"13-inch","needed_by":"2025-03-15","monitors":2,"for_user":5,"replaces":9,"notes":"x"}`)
	f.Add(`{"model":null,"needed_by":"2025-13-01","monitors":"2","for_user":-1,"colour":[1]}`)
	f.Add(`{"needed_by":"2025-02-29","monitors":1e309,"for_user":1.5,"replaces":9007199254740993}`)
	vars := []FormVariable{
		{Name: "model", Type: Choice, Choices: []string{"13-inch", "15-inch"}, Required: true},
		{Name: "needed_by", Type: Date},
		{Name: "monitors", Type: Number, Min: f64(0), Max: f64(2)},
		{Name: "for_user", Type: UserRef},
		{Name: "replaces", Type: CIRef},
		{Name: "notes", Type: Text},
	}
	f.Fuzz(func(t *testing.T, body string) {
		var in map[string]any
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		vals, refs, err := CheckValues(vars, in)
		if err != nil {
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.Invalid || len(e.Fields) == 0 {
				t.Fatalf("refused without field errors: %v", err)
			}
			for _, fe := range e.Fields {
				if !strings.HasPrefix(fe.Location, "body.variables") {
					t.Fatalf("a field error outside body.variables: %s", fe.Location)
				}
			}
			return
		}
		for name, v := range vals {
			i := slices.IndexFunc(vars, func(fv FormVariable) bool { return fv.Name == name })
			if i < 0 {
				t.Fatalf("accepted a value for %q, which the form does not have", name)
			}
			switch vars[i].Type {
			case UserRef, CIRef:
				if id, ok := v.(int64); !ok || id < 1 {
					t.Fatalf("%s: id %#v", name, v)
				}
			case Number:
				if _, ok := v.(float64); !ok {
					t.Fatalf("%s: number %#v", name, v)
				}
			default:
				if _, ok := v.(string); !ok {
					t.Fatalf("%s: text %#v", name, v)
				}
			}
		}
		if len(refs) > 2 {
			t.Fatalf("%d refs from two id variables", len(refs))
		}
	})
}
