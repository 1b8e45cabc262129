package httpx

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
)

// MetaAccess is the operation metadata key that holds who may call an operation.
const MetaAccess = "x-steward-access"

// Access levels that are not permissions.
const (
	// Public operations need no authentication (health, the OpenAPI document).
	Public = "public"
	// Authenticated operations need a signed-in caller but no permission.
	Authenticated = "authenticated"
)

// API is the JSON API: huma over the standard mux, plus the logger that records internal errors.
type API struct {
	huma.API
	Log *slog.Logger
}

// Register adds an operation that only callers with access may call: Public,
// Authenticated, or a permission name. The guard middleware denies every
// operation registered without it. Service errors are mapped to problem+json.
func Register[I, O any](a *API, op huma.Operation, access string, h func(context.Context, *I) (*O, error)) {
	if access == "" {
		panic("httpx.Register: operation " + op.OperationID + " has no access rule")
	}
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[MetaAccess] = access
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	op.Extensions[MetaAccess] = access
	if access != Public {
		op.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
	}
	huma.Register(a.API, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, ToHuma(ctx, a.Log, err)
		}
		return out, nil
	})
}

// ETag is the entity tag of a resource at version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch parses an If-Match header into the version it names. Updates require
// it (428 without), so that no update is lost; a malformed tag cannot match (412).
func IfMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, errs.E(errs.PreconditionRequired, "send If-Match with the ETag you read, so that no other change is overwritten")
	}
	first, _, _ := strings.Cut(h, ",")
	first = strings.TrimPrefix(strings.TrimSpace(first), "W/")
	v, err := strconv.ParseInt(strings.Trim(first, `"`), 10, 64)
	if err != nil || v < 0 { // 0 is the ETag of settings never saved
		return 0, errs.E(errs.PreconditionFailed, "If-Match %q does not match the current ETag", h)
	}
	return v, nil
}

// SelectFields is a huma transformer applying ?fields=a,b to a successful JSON
// response: a list page keeps those fields of each item, a record keeps those
// fields of itself. The handler has already validated the names.
func SelectFields(ctx huma.Context, status string, v any) (any, error) {
	fields := ctx.Query("fields")
	if fields == "" || !strings.HasPrefix(status, "2") || v == nil {
		return v, nil
	}
	keep := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		keep[strings.TrimSpace(f)] = true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v, nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return v, nil
	}
	pick := func(o map[string]any) map[string]any {
		out := make(map[string]any, len(keep))
		for k, val := range o {
			if keep[k] {
				out[k] = val
			}
		}
		return out
	}
	if items, ok := m["items"].([]any); ok {
		for i, it := range items {
			if o, ok := it.(map[string]any); ok {
				items[i] = pick(o)
			}
		}
		return m, nil
	}
	return pick(m), nil
}
