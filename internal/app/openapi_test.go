package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"steward/internal/platform/db"
	"steward/internal/platform/httpx"
)

// oasSchemaID is the $id of testdata/openapi-3.1-schema.json.
const oasSchemaID = "https://spec.openapis.org/oas/3.1/schema/2021-05-20"

// operation is one API operation as the OpenAPI document lists it.
type operation struct {
	Method      string
	Path        string
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Access      string                `json:"x-steward-access"`
	Security    []map[string][]string `json:"security"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	} `json:"parameters"`
	RequestBody json.RawMessage `json:"requestBody"`
}

// fetchOpenAPI reads the server's OpenAPI document, raw and as its operations
// sorted by path and method.
func fetchOpenAPI(t testing.TB, h *harness) ([]byte, []operation) {
	t.Helper()
	r := h.get(t, "/api/v1/openapi.json", "").want(t, http.StatusOK)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	r.decode(t, &doc)
	var ops []operation
	for path, item := range doc.Paths {
		for method, raw := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // summary, parameters and the like of the path item
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("decode %s %s: %v", method, path, err)
			}
			op.Method, op.Path = strings.ToUpper(method), path
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	if len(ops) == 0 {
		t.Fatal("the OpenAPI document lists no operations")
	}
	return r.Body, ops
}

// TestOpenAPIDocumentIsValid validates /api/v1/openapi.json against the OAI's
// OpenAPI 3.1 schema, compiles every schema in it as JSON Schema 2020-12, and
// checks Steward's own rules for operations.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		raw, ops := fetchOpenAPI(t, h)
		validateOpenAPI(t, raw)
		checkOperations(t, ops)
		if y := h.get(t, "/api/v1/openapi.yaml", ""); y.Status != http.StatusOK {
			t.Errorf("GET /api/v1/openapi.yaml: %s", y)
		}
	})
}

func validateOpenAPI(t *testing.T, raw []byte) {
	t.Helper()
	f, err := os.Open("testdata/openapi-3.1-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read the OpenAPI 3.1 schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(oasSchemaID, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(oasSchemaID)
	if err != nil {
		t.Fatalf("compile the OpenAPI 3.1 schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the OpenAPI document does not follow the OpenAPI 3.1 schema:\n%v", err)
	}

	// The OAI schema leaves Schema Objects open; compile each as a JSON Schema
	// 2020-12 schema of its own, so that a malformed one is caught too.
	const docURL = "https://steward.invalid/api/v1/openapi.json"
	sc := jsonschema.NewCompiler()
	sc.DefaultDraft(jsonschema.Draft2020)
	if err := sc.AddResource(docURL, inst); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for name := range doc.Components.Schemas {
		if _, err := sc.Compile(docURL + "#/components/schemas/" + name); err != nil {
			t.Errorf("components.schemas.%s is not a valid JSON Schema: %v", name, err)
		}
	}
}

func checkOperations(t *testing.T, ops []operation) {
	t.Helper()
	seen := map[string]string{}
	for _, op := range ops {
		where := op.Method + " " + op.Path
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", where)
		} else if prev, dup := seen[op.OperationID]; dup {
			t.Errorf("%s and %s share operationId %q", prev, where, op.OperationID)
		}
		seen[op.OperationID] = where
		if strings.TrimSpace(op.Summary) == "" {
			t.Errorf("%s (%s) has no summary", where, op.OperationID)
		}
		if op.Access == "" {
			t.Errorf("%s (%s) lacks the %s extension", where, op.OperationID, httpx.MetaAccess)
		}
		if op.Access != httpx.Public && len(op.Security) == 0 {
			t.Errorf("%s (%s) is not public (access %q) but declares no security", where, op.OperationID, op.Access)
		}
		if !strings.HasPrefix(op.Path, "/api/v1/") {
			t.Errorf("%s is outside /api/v1/", where)
		}
	}
}
