package reconcile

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MaxRuleFields is the most fields one identification rule may combine.
const MaxRuleFields = 4

// Rule identifies a configuration item by the combined values of one or more fields,
// such as the serial number, or the host name together with the domain.
//
// Values compare after trimming, lower-casing and collapsing inner white space; in a
// field whose name contains "host", "domain", "fqdn" or "dns" a trailing dot is
// dropped as well. A rule applies to a row or an item only when all its fields are
// non-empty there.
type Rule struct {
	Name   string
	Fields []string
}

// Item is a recorded configuration item within the audit's scope, with its
// identification and compared attributes as strings (its name under "name").
type Item struct {
	ID     int64
	Fields map[string]string
}

// DiffKind classifies a finding.
type DiffKind string

// The kinds of finding, in the order Report.Findings lists them; a row that matches
// its item with no differences is counted in Report.Matched and is not a finding.
const (
	KindAmbiguous  DiffKind = "ambiguous"  // observed row whose winning rule's key fits several items
	KindDuplicate  DiffKind = "duplicate"  // observed row matching an item an earlier row already matched
	KindMismatched DiffKind = "mismatched" // matched, but compared attributes differ
	KindMissing    DiffKind = "missing"    // recorded item no row matched
	KindUnexpected DiffKind = "unexpected" // observed row no rule matched
)

// Difference is one attribute whose recorded and observed values disagree; both
// values are given as they were, untrimmed.
type Difference struct {
	Field    string
	Recorded string
	Observed string
}

// Finding is one discrepancy between the CMDB and what was observed.
//
// ItemID is zero for unexpected and ambiguous findings, Row is nil for missing ones
// (otherwise it points into the slice given to Reconcile), and Rule names the rule
// that matched (or, for ambiguous findings, the rule whose key fitted several items).
type Finding struct {
	Kind        DiffKind
	ItemID      int64
	Row         *Row
	Rule        string
	Differences []Difference // mismatched only, in the order of the compare list
	Candidates  []int64      // ambiguous only: the IDs of the items the key fitted, ascending
}

// Report summarises a reconciliation; Observed always equals Matched + Duplicates +
// Unexpected + Ambiguous.
type Report struct {
	Observed   int // rows given
	Matched    int // rows that matched an item first, with or without differences
	Mismatched int // matched rows whose compared attributes differ
	Missing    int // items no row matched (ambiguous candidates excepted)
	Unexpected int // rows no rule matched
	Duplicates int // rows matching an item an earlier row had matched
	Ambiguous  int // rows whose winning rule's key fitted several items
	Findings   []Finding
}

// ValidateRules reports every problem with an ordered rule list: there must be at
// least one rule, each named uniquely (ignoring letter case) and combining 1 to
// MaxRuleFields distinct, non-empty fields.
func ValidateRules(rules []Rule) error {
	if len(rules) == 0 {
		return errors.New("at least one identification rule is required")
	}
	var errs []error
	names := make(map[string]bool, len(rules))
	for i, r := range rules {
		name := strings.TrimSpace(r.Name)
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("rule %d: name is required", i+1))
		case names[strings.ToLower(name)]:
			errs = append(errs, fmt.Errorf("rule %d: name %q is used twice", i+1, r.Name))
		}
		names[strings.ToLower(name)] = true
		if len(r.Fields) == 0 || len(r.Fields) > MaxRuleFields {
			errs = append(errs, fmt.Errorf("rule %q: has %d fields, want 1 to %d", r.Name, len(r.Fields), MaxRuleFields))
		}
		seen := make(map[string]bool, len(r.Fields))
		for _, f := range r.Fields {
			switch {
			case strings.TrimSpace(f) == "":
				errs = append(errs, fmt.Errorf("rule %q: a field name is empty", r.Name))
			case seen[f]:
				errs = append(errs, fmt.Errorf("rule %q: field %q is listed twice", r.Name, f))
			}
			seen[f] = true
		}
	}
	return errors.Join(errs...)
}

// ruleIndex maps each key of one rule to the item holding it.
type ruleIndex struct {
	rule    Rule
	host    []bool           // per field: drop a trailing dot
	single  map[string]int   // key → item index, or -1 when several items share the key
	several map[string][]int // key → item indices, for shared keys only
	compare []column         // compared columns, without this rule's fields
}

// column is one compared attribute; identification fields of other rules compare
// in their normalised identification form.
type column struct {
	name       string
	identifies bool
	host       bool
}

// key appends the rule's key for fields to buf; ok is false when a field is empty.
// Single-field keys are the normalised value; multi-field keys prefix each value
// with its length so that no two combinations run together.
func (x *ruleIndex) key(buf []byte, fields map[string]string) ([]byte, bool) {
	switch len(x.rule.Fields) {
	case 0:
		return buf, false
	case 1:
		buf = appendKey(buf, fields[x.rule.Fields[0]], x.host[0])
		return buf, len(buf) > 0
	}
	var scratch [64]byte
	for i, f := range x.rule.Fields {
		v := appendKey(scratch[:0], fields[f], x.host[i])
		if len(v) == 0 {
			return buf, false
		}
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
	}
	return buf, true
}

func newRuleIndex(r Rule, items []Item, compare []string, idFields map[string]bool) *ruleIndex {
	x := &ruleIndex{
		rule:   r,
		host:   make([]bool, len(r.Fields)),
		single: make(map[string]int, len(items)),
	}
	for i, f := range r.Fields {
		x.host[i] = isHostField(f)
	}
	if len(r.Fields) == 0 {
		return x // never applies
	}
	for _, c := range compare {
		if !slices.Contains(r.Fields, c) {
			x.compare = append(x.compare, column{name: c, identifies: idFields[c], host: isHostField(c)})
		}
	}
	var buf []byte
	for i := range items {
		var ok bool
		buf, ok = x.key(buf[:0], items[i].Fields)
		if !ok {
			continue
		}
		prev, exists := x.single[string(buf)]
		switch {
		case !exists:
			k := string(buf)
			if len(r.Fields) == 1 && k == items[i].Fields[r.Fields[0]] {
				k = items[i].Fields[r.Fields[0]] // share the item's string
			}
			x.single[k] = i
		case prev >= 0:
			if x.several == nil {
				x.several = make(map[string][]int)
			}
			k := string(buf)
			x.single[k] = -1
			x.several[k] = []int{prev, i}
		default:
			k := string(buf)
			x.several[k] = append(x.several[k], i)
		}
	}
	return x
}

// Reconcile matches observed rows to recorded items and reports the discrepancies.
//
// Rules are tried in order; for each row the first rule whose fields are all
// non-empty in the row and whose key fits exactly one item wins. A rule whose key
// fits several items stops the search for that row, which becomes an ambiguous
// finding naming the candidates; those candidates are not also reported missing.
// When several rows match one item, the first in observed order keeps it and the
// rest are duplicates.
//
// A matched row's values in the compare columns are compared with the item's,
// skipping empty or absent observed values and the winning rule's own fields.
// Fields that identify in another rule compare in their identification form (so
// "WEB1" and "web1" agree, as do "example.com." and "example.com" in a domain
// field); other attributes compare numbers by value ("4" equals "4.0"), true and
// false in any letter case, and other text exactly after trimming.
//
// Findings are ordered by kind (alphabetically, as the Kind constants are listed),
// then item ID, then row line. Rules should have passed ValidateRules; a rule without
// fields never matches.
func Reconcile(rules []Rule, recorded []Item, observed []Row, compare []string) Report {
	compare = dedupe(compare)
	idFields := make(map[string]bool)
	for _, r := range rules {
		for _, f := range r.Fields {
			idFields[f] = true
		}
	}
	idx := make([]*ruleIndex, len(rules))
	var wg sync.WaitGroup // the indexes are independent: build them side by side
	for i, r := range rules {
		wg.Go(func() { idx[i] = newRuleIndex(r, recorded, compare, idFields) })
	}
	wg.Wait()
	rep := Report{Observed: len(observed)}
	matchedBy := make([]int, len(recorded)) // 1 + index of the matching row; 0 when none
	var candidate []bool                    // items named by an ambiguous finding
	var buf []byte
	for ri := range observed {
		row := &observed[ri]
		var (
			winner *ruleIndex
			item   = -1
		)
		for _, x := range idx {
			var ok bool
			buf, ok = x.key(buf[:0], row.Fields)
			if !ok {
				continue
			}
			i, found := x.single[string(buf)]
			if !found {
				continue
			}
			winner, item = x, i
			break
		}
		switch {
		case winner == nil:
			rep.Unexpected++
			rep.Findings = append(rep.Findings, Finding{Kind: KindUnexpected, Row: row})
		case item < 0:
			rep.Ambiguous++
			if candidate == nil {
				candidate = make([]bool, len(recorded))
			}
			several := winner.several[string(buf)]
			ids := make([]int64, len(several))
			for j, it := range several {
				ids[j] = recorded[it].ID
				candidate[it] = true
			}
			slices.Sort(ids)
			rep.Findings = append(rep.Findings, Finding{Kind: KindAmbiguous, Row: row, Rule: winner.rule.Name, Candidates: ids})
		case matchedBy[item] != 0:
			rep.Duplicates++
			rep.Findings = append(rep.Findings, Finding{Kind: KindDuplicate, ItemID: recorded[item].ID, Row: row, Rule: winner.rule.Name})
		default:
			matchedBy[item] = ri + 1
			rep.Matched++
			if diffs := differences(winner.compare, recorded[item].Fields, row.Fields); len(diffs) > 0 {
				rep.Mismatched++
				rep.Findings = append(rep.Findings, Finding{Kind: KindMismatched, ItemID: recorded[item].ID, Row: row, Rule: winner.rule.Name, Differences: diffs})
			}
		}
	}
	for i := range recorded {
		if matchedBy[i] == 0 && (candidate == nil || !candidate[i]) {
			rep.Missing++
			rep.Findings = append(rep.Findings, Finding{Kind: KindMissing, ItemID: recorded[i].ID})
		}
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.ItemID, b.ItemID),
			cmp.Compare(lineOf(a.Row), lineOf(b.Row)),
		)
	})
	return rep
}

func differences(compare []column, recorded, observed map[string]string) []Difference {
	var diffs []Difference
	for _, c := range compare {
		obs, ok := observed[c.name]
		if !ok || strings.TrimSpace(obs) == "" {
			continue
		}
		rec := recorded[c.name]
		same := false
		if c.identifies {
			same = sameKey(rec, obs, c.host)
		} else {
			same = sameValue(rec, obs)
		}
		if !same {
			diffs = append(diffs, Difference{Field: c.name, Recorded: rec, Observed: obs})
		}
	}
	return diffs
}

func lineOf(r *Row) int {
	if r == nil {
		return 0
	}
	return r.Line
}

func dedupe(cols []string) []string {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
