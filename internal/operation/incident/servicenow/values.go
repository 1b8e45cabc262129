package servicenow

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"unicode/utf8"
)

// Steward's incident states, as Incident.State holds them.
const (
	StateNew        = "new"
	StateInProgress = "in_progress"
	StateOnHold     = "on_hold"
	StateResolved   = "resolved"
	StateClosed     = "closed"
	StateCancelled  = "cancelled"
)

// Steward's contact channels that Incident.Channel may hold.
const (
	ChannelDesk   = "desk"
	ChannelPhone  = "phone"
	ChannelPortal = "portal"
	ChannelEmail  = "email"
	ChannelAPI    = "api"
	ChannelEvent  = "event"
	ChannelChat   = "chat"
	ChannelWalkIn = "walk_in"
	ChannelImport = "import"
)

// noStateValue is the value ServiceNow's event log writes when a row has no state.
const noStateValue = "-100"

// states maps a ServiceNow incident state, lower-cased with single spaces, to Steward's.
// Both the labels and the numeric choice values of ServiceNow's incident table are known.
var states = map[string]string{
	"new":                StateNew,
	"1":                  StateNew,
	"active":             StateInProgress,
	"in progress":        StateInProgress,
	"work in progress":   StateInProgress,
	"assigned":           StateInProgress,
	"2":                  StateInProgress,
	"on hold":            StateOnHold,
	"awaiting user info": StateOnHold,
	"awaiting problem":   StateOnHold,
	"awaiting vendor":    StateOnHold,
	"awaiting evidence":  StateOnHold,
	"awaiting change":    StateOnHold,
	"pending":            StateOnHold,
	"3":                  StateOnHold,
	"resolved":           StateResolved,
	"6":                  StateResolved,
	"closed":             StateClosed,
	"7":                  StateClosed,
	"canceled":           StateCancelled,
	"cancelled":          StateCancelled,
	"8":                  StateCancelled,
}

// mapState maps a ServiceNow state to Steward's. noState is true for "-100", the
// event log's "no state"; ok is false for a state this importer does not know.
func mapState(s string) (state string, noState, ok bool) {
	k := fold(s)
	if k == noStateValue {
		return "", true, false
	}
	state, ok = states[k]
	return state, false, ok
}

// channels maps a ServiceNow contact type, lower-cased with single spaces and without
// "-" or "_", to a Steward channel.
var channels = map[string]string{
	"phone":            ChannelPhone,
	"telephone":        ChannelPhone,
	"ivr":              ChannelPhone, // interactive voice response: a call answered by a machine
	"voice":            ChannelPhone,
	"email":            ChannelEmail,
	"e mail":           ChannelEmail,
	"mail":             ChannelEmail,
	"self service":     ChannelPortal,
	"selfservice":      ChannelPortal,
	"portal":           ChannelPortal,
	"service portal":   ChannelPortal,
	"web":              ChannelPortal,
	"direct opt in":    ChannelDesk, // the caller went straight to a support person
	"direct optin":     ChannelDesk,
	"service desk":     ChannelDesk,
	"desk":             ChannelDesk,
	"walk in":          ChannelWalkIn,
	"walkin":           ChannelWalkIn,
	"walk up":          ChannelWalkIn,
	"chat":             ChannelChat,
	"virtual agent":    ChannelChat,
	"teams":            ChannelChat,
	"slack":            ChannelChat,
	"alert":            ChannelEvent,
	"monitoring":       ChannelEvent,
	"event":            ChannelEvent,
	"event management": ChannelEvent,
	"api":              ChannelAPI,
	"integration":      ChannelAPI,
	"web service":      ChannelAPI,
}

// mapChannel maps a ServiceNow contact type to a Steward channel. An empty or unknown
// contact type is the import channel (the file keeps the original in SourceChannel).
func mapChannel(s string) string {
	k := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' {
			return ' '
		}
		return r
	}, s)
	if c, ok := channels[fold(k)]; ok {
		return c
	}
	return ChannelImport
}

// parseBool reads TRUE/FALSE, true/false, 1/0, yes/no, y/n, t/f and on/off in any letter
// case. present is false for "?" and empty.
func parseBool(s string) (v, present bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "?":
		return false, false, nil
	case "true", "t", "1", "yes", "y", "on":
		return true, true, nil
	case "false", "f", "0", "no", "n", "off":
		return false, true, nil
	}
	return false, false, fmt.Errorf("cannot read %q as true or false", s)
}

// maxCount bounds the counters (reassignments, reopenings, modifications).
const maxCount = 1_000_000_000

// parseCount reads a non-negative whole number such as a reassignment count; present is
// false for "?" and empty.
func parseCount(s string) (n int, present bool, err error) {
	s = strings.TrimSpace(s)
	if isEmpty(s) {
		return 0, false, nil
	}
	if !allDigits(s) || len(s) > 10 {
		return 0, false, fmt.Errorf("cannot read %q as a count", s)
	}
	n = atoi(s)
	if n > maxCount {
		return 0, false, fmt.Errorf("count %q is too large", s)
	}
	return n, true, nil
}

// scale is the range and the words of an impact, urgency or priority field.
type scale struct {
	max   int
	words map[string]int
}

// levelScale reads impact and urgency: 1 high, 2 medium, 3 low.
var levelScale = scale{max: 3, words: map[string]int{
	"critical": 1, "high": 1,
	"medium": 2, "moderate": 2,
	"low": 3, "planning": 3,
}}

// priorityScale reads ServiceNow's priority: 1 critical, 2 high, 3 moderate, 4 low, 5 planning.
var priorityScale = scale{max: 5, words: map[string]int{
	"critical": 1,
	"high":     2,
	"moderate": 3, "medium": 3,
	"low":      4,
	"planning": 5,
}}

// parseLevel reads an impact, urgency or priority written "2 - Medium", "2" or "Medium"
// (when a number leads, it decides and the label is ignored). "?" and empty are 0.
func parseLevel(s string, sc scale) (int, error) {
	s = strings.TrimSpace(s)
	if isEmpty(s) {
		return 0, nil
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i > 0 {
		rest := strings.TrimSpace(s[i:])
		if rest != "" && rest[0] != '-' {
			return 0, fmt.Errorf("cannot read %q as a level", s)
		}
		if i > 2 || atoi(s[:i]) < 1 || atoi(s[:i]) > sc.max {
			return 0, fmt.Errorf("level %q is outside 1 to %d", s, sc.max)
		}
		return atoi(s[:i]), nil
	}
	if n, ok := sc.words[fold(s)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("cannot read %q as a level", s)
}

// maxKey is the longest taxonomy key Steward accepts (^[a-z0-9][a-z0-9_-]{0,39}$).
const maxKey = 40

// taxonomyKey makes a taxonomy key from a label: lower-case ASCII letters and digits,
// every other run of characters one "-": "Category 55" is "category-55". A key that
// would be longer than 40 characters is cut and ends with a hash of the whole label, so
// that two long labels still differ; a label with no letter or digit becomes its hash.
// "?" and empty are "".
func taxonomyKey(label string) string {
	label = strings.TrimSpace(label)
	if isEmpty(label) {
		return ""
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(label) {
		ascii := string(r)
		if !((r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			ascii = latin[r]
		}
		if ascii == "" {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(ascii)
	}
	key := b.String()
	h := fnv.New32a()
	h.Write([]byte(label))
	sum := fmt.Sprintf("%08x", h.Sum32())
	switch {
	case key == "":
		return sum
	case len(key) > maxKey:
		return strings.TrimRight(key[:maxKey-len(sum)-1], "-") + "-" + sum
	}
	return key
}

// latin spells the accented lower-case Latin letters of Western European labels in ASCII.
var latin = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ð': "d", 'þ': "th"}
	for ascii, letters := range map[string]string{
		"a": "àáâãäåā", "c": "çćč", "e": "èéêëēė", "i": "ìíîïī", "n": "ñń",
		"o": "òóôõöō", "u": "ùúûüū", "y": "ýÿ", "s": "śš", "z": "źżž", "l": "ł",
	} {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	return m
}()

// errBadText says a value holds bytes a database would refuse.
var errBadText = errors.New("holds a NUL byte or text that is not UTF-8")

// cleanText trims a text value and turns "?" into ""; it refuses invalid UTF-8 and NUL.
func cleanText(s string) (string, error) {
	s = strings.TrimSpace(s)
	if isEmpty(s) {
		return "", nil
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return "", errBadText
	}
	return s, nil
}

// isEmpty reports whether a trimmed value means "no value": empty or "?".
func isEmpty(s string) bool { return s == "" || s == "?" }

// fold lower-cases s, trims it and collapses its runs of white space to one space.
func fold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
