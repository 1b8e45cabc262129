package framework

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// dataWith returns the embedded data with one file's JSON changed by edit.
func dataWith(t *testing.T, file string, edit func(v any) any) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(dataFS, "data", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dataFS, path)
		if err != nil {
			return err
		}
		if path == file {
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			if b, err = json.Marshal(edit(v)); err != nil {
				return err
			}
		}
		out[path] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func objects(v any) []map[string]any {
	var out []map[string]any
	for _, x := range v.([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func find(v any, code string) map[string]any {
	for _, o := range objects(v) {
		if o["code"] == code {
			return o
		}
	}
	panic("no " + code)
}

func TestLoadEmbeddedData(t *testing.T) {
	if _, err := loadFS(dataFS); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesDefectiveData(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		edit  func(v any) any
		wants []string // substrings the error must contain: the item and the rule
	}{
		{"activity of an unknown process", "data/activities.json", func(v any) any {
			find(v, "IM3")["process"] = "IMX"
			return v
		}, []string{"IM3", "activity's process must exist"}},
		{"duplicate activity code", "data/activities.json", func(v any) any {
			find(v, "IM4")["code"] = "IM3"
			return v
		}, []string{"IM3", "activity code must be unique"}},
		{"common control out of place", "data/activities.json", func(v any) any {
			delete(find(v, "ChM8"), "control")
			return v
		}, []string{"ChM8", "§6.1"}},
		{"process without purpose", "data/processes.json", func(v any) any {
			find(v, "KM")["purpose"] = ""
			return v
		}, []string{"KM", "process must have a purpose"}},
		{"unknown process role", "data/processes.json", func(v any) any {
			find(v, "ChM")["roles"] = []any{"wizard"}
			return v
		}, []string{"ChM", "process roles must be known roles"}},
		{"template row with two A's", "data/raci_template.json", func(v any) any {
			rows := v.(map[string]any)["rows"].([]any)
			rows[3].(map[string]any)["cells"].(map[string]any)["process-developer"] = "A"
			return v
		}, []string{"[XXX6] Evaluate [Process] Management", string(RuleOneAccountable)}},
		{"TAXUD row with two A's", "data/taxud_itscm.json", func(v any) any {
			raci := v.(map[string]any)["raci"].([]any)
			raci[4].(map[string]any)["cells"].(map[string]any)["nas"] = "A"
			return v
		}, []string{"ITSCM.2.1", string(RuleOneAccountable)}},
		{"TAXUD row without R", "data/taxud_itscm.json", func(v any) any {
			raci := v.(map[string]any)["raci"].([]any)
			raci[5].(map[string]any)["cells"] = map[string]any{"itsm-service-continuity-manager": "A"}
			return v
		}, []string{"ITSCM.2.2", string(RuleResponsible)}},
		{"TAXUD row with an unknown role", "data/taxud_itscm.json", func(v any) any {
			raci := v.(map[string]any)["raci"].([]any)
			raci[0].(map[string]any)["cells"].(map[string]any)["wizard"] = "C"
			return v
		}, []string{"ITSCM.1.1", string(RuleKnownRole)}},
		{"relationship to an unknown domain", "data/relationships.json", func(v any) any {
			rels := v.(map[string]any)["relationships"].([]any)
			rels[0].(map[string]any)["to"] = "XX"
			return v
		}, []string{"relationship must join two different domains"}},
		{"unknown field", "data/domains.json", func(v any) any {
			objects(v)[0]["colour"] = "blue"
			return v
		}, []string{"data/domains.json", "expected shape"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadFS(dataWith(t, c.file, c.edit))
			if err == nil {
				t.Fatal("defective data accepted")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q: %v", w, err)
				}
			}
			var de *DataError
			var re *RACIError
			if !errors.As(err, &de) && !errors.As(err, &re) {
				t.Errorf("error is neither *DataError nor *RACIError: %T", err)
			}
		})
	}
}
