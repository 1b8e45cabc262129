package sla

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Applies reports whether an audit action applies changes to a record's
// fields: record.create*, record.update*, record.assign*, record.transition*,
// record.system.* and every area action (not starting with "record."), except
// any action ending in ".denied".
func Applies(action string) bool {
	if strings.HasSuffix(action, ".denied") || action == "" {
		return false
	}
	rest, isKernel := strings.CutPrefix(action, "record.")
	if !isKernel {
		return true
	}
	for _, p := range [...]string{"create", "update", "assign", "transition"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return strings.HasPrefix(rest, "system.")
}

// tracked reports whether a field is one a timeline keeps.
func tracked(field string) bool {
	switch field {
	case FieldType, FieldState, FieldPriority, FieldService, FieldTeam, FieldAssignee, FieldRequester,
		FieldCategory, FieldSubcategory, FieldHoldReason, FieldPath:
		return true
	}
	return false
}

// auditChange is one element of an audit entry's changes JSON.
type auditChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

// EntryFromAudit reads one audit_log row of a record. It returns false (and
// an Entry with no changes) when the action does not apply changes (see
// Applies). The entry keeps the changes of tracked fields only, their Old and
// New values already as fact strings (see Facts).
func EntryFromAudit(seq, at int64, action string, changesJSON []byte) (Entry, bool, error) {
	e := Entry{Seq: seq, At: at, Action: action}
	if !Applies(action) {
		return e, false, nil
	}
	raw := bytes.TrimSpace(changesJSON)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return e, true, nil
	}
	if changes, ok := scanChanges(raw); ok {
		e.Changes = changes
		return e, true, nil
	}
	changes, err := decodeChanges(raw)
	if err != nil {
		return e, true, fmt.Errorf("audit entry %d (%s): %w", seq, action, err)
	}
	e.Changes = changes
	return e, true, nil
}

// decodeChanges reads an audit entry's changes with encoding/json: the slow
// path, for what scanChanges does not read, and its reference in tests.
func decodeChanges(raw []byte) ([]Change, error) {
	var cs []auditChange
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	var out []Change
	for _, c := range cs {
		if !tracked(c.Field) {
			continue
		}
		o, err := rawFact(c.Old)
		if err != nil {
			return nil, fmt.Errorf("%s old: %w", c.Field, err)
		}
		n, err := rawFact(c.New)
		if err != nil {
			return nil, fmt.Errorf("%s new: %w", c.Field, err)
		}
		out = append(out, Change{Field: c.Field, Old: o, New: n})
	}
	return out, nil
}

// rawFact turns one JSON value into a fact string.
func rawFact(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", nil
	}
	switch v[0] {
	case 'n':
		return "", nil
	case 't', 'f':
		return string(v), nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		return "", fmt.Errorf("a %s value is not a fact", map[byte]string{'{': "object", '[': "array"}[v[0]])
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return intFact(n), nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return "", err
	}
	return floatFact(f), nil
}

func intFact(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func floatFact(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return intFact(int64(f))
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// FactValue turns a change value (a string, a number of any Go numeric type,
// a json.Number, a bool or nil) into a fact string.
func FactValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return intFact(int64(x))
	case int32:
		return intFact(int64(x))
	case int64:
		return intFact(x)
	case uint:
		return intFact(int64(x))
	case uint32:
		return intFact(int64(x))
	case uint64:
		return intFact(int64(x))
	case float32:
		return floatFact(float64(x))
	case float64:
		return floatFact(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return intFact(n)
		}
		if f, err := x.Float64(); err == nil {
			return floatFact(f)
		}
		return string(x)
	}
	return fmt.Sprint(v)
}

// Fold applies one audit entry. An entry with e.Seq <= tl.Seq was folded
// before and is ignored; otherwise Seq advances to e.Seq. The first entry
// folded sets Created. Only an entry whose action applies changes (Applies)
// and that changes a tracked field adds a snapshot; an entry at the instant
// of the last snapshot (or earlier: audit times are not strictly monotone)
// amends that snapshot instead, and drops it when it comes back to the
// facts before it. Snapshots share no map with anything but themselves, so
// a Facts obtained before keeps its values.
func (tl *Timeline) Fold(e Entry) {
	if e.Seq <= tl.Seq {
		return
	}
	tl.Seq = e.Seq
	if tl.Created == 0 {
		tl.Created = e.At
	}
	if !Applies(e.Action) {
		return
	}
	var last Facts
	n := len(tl.Snapshots)
	if n > 0 {
		last = tl.Snapshots[n-1].Facts
	}
	var next Facts
	for _, c := range e.Changes {
		if !tracked(c.Field) {
			continue
		}
		v := FactValue(c.New)
		cur := last[c.Field]
		if next != nil {
			cur = next[c.Field]
		}
		if cur == v {
			continue
		}
		if next == nil {
			next = make(Facts, len(last)+1)
			for k, x := range last {
				next[k] = x
			}
		}
		if v == "" {
			delete(next, c.Field)
		} else {
			next[c.Field] = v
		}
	}
	if next == nil {
		return
	}
	if n == 0 {
		tl.Snapshots = append(tl.Snapshots, Snapshot{At: e.At, Facts: next})
		return
	}
	if e.At > tl.Snapshots[n-1].At {
		tl.Snapshots = append(tl.Snapshots, Snapshot{At: e.At, Facts: next})
		return
	}
	if n >= 2 && equalFacts(tl.Snapshots[n-2].Facts, next) {
		tl.Snapshots[n-1] = Snapshot{}
		tl.Snapshots = tl.Snapshots[:n-1]
		return
	}
	tl.Snapshots[n-1].Facts = next
}

func equalFacts(a, b Facts) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Build folds a record's audit entries (in any order: they are folded by
// ascending Seq) into its timeline.
func Build(recordID int64, number string, es []Entry) Timeline {
	tl := Timeline{RecordID: recordID, Number: number}
	if !sort.SliceIsSorted(es, func(i, j int) bool { return es[i].Seq < es[j].Seq }) {
		es = append([]Entry(nil), es...)
		sort.SliceStable(es, func(i, j int) bool { return es[i].Seq < es[j].Seq })
	}
	for _, e := range es {
		tl.Fold(e)
	}
	return tl
}

// Current is the record's latest facts (nil before the first snapshot).
func (tl Timeline) Current() Facts {
	if len(tl.Snapshots) == 0 {
		return nil
	}
	return tl.Snapshots[len(tl.Snapshots)-1].Facts
}

// FactsAt is the record's facts at an instant (unix ms): those of the last
// snapshot at or before it, nil before the first.
func (tl Timeline) FactsAt(at int64) Facts {
	i := sort.Search(len(tl.Snapshots), func(i int) bool { return tl.Snapshots[i].At > at })
	if i == 0 {
		return nil
	}
	return tl.Snapshots[i-1].Facts
}
