package problem

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// Limits on the fields of problems and known errors.
const (
	maxTitle     = 200
	maxText      = 32000
	maxShortText = 4000
	maxRFC       = 500
	maxTrendKey  = 200
	maxIncidents = 200
	maxEvidence  = 50
	maxFollowUps = 50
	maxFollowUp  = 500
	// DefaultImpact and DefaultUrgency are a new problem's when it names none: medium, so P3.
	DefaultImpact  = 2
	DefaultUrgency = 2
)

var (
	keyPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	numberPattern = regexp.MustCompile(`^[A-Z]{2,8}[0-9]{7,}$`)
)

// DefaultMatrix is ITIL's 3×3 priority matrix: the priority (1 highest .. 5)
// of impact i and urgency u (1 high .. 3 low) is DefaultMatrix[i-1][u-1].
var DefaultMatrix = [3][3]int{
	{1, 2, 3},
	{2, 3, 4},
	{3, 4, 5},
}

// Priority is the priority impact × urgency gives through the default matrix,
// or 0 when either is outside 1..3.
func Priority(impact, urgency int) int {
	if impact < 1 || impact > 3 || urgency < 1 || urgency > 3 {
		return 0
	}
	return DefaultMatrix[impact-1][urgency-1]
}

// fieldErrs collects field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, no control
// characters but line breaks and tabs.
func (f *fieldErrs) text(loc, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		f.add(loc, "no control characters", nil)
	}
}

// required checks a text field that may not be blank.
func (f *fieldErrs) required(loc, s string, max int) {
	if strings.TrimSpace(s) == "" {
		f.add(loc, "required", nil)
		return
	}
	f.text(loc, s, max)
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

// checkKeys checks a category and a subcategory key: taxonomy keys, and no subcategory without a category.
func (f *fieldErrs) checkKeys(prefix, category, subcategory string) {
	if category != "" && !keyPattern.MatchString(category) {
		f.add(prefix+"category", "a category key: 1 to 40 lower-case letters, digits, '_' or '-'", category)
	}
	if subcategory != "" && !keyPattern.MatchString(subcategory) {
		f.add(prefix+"subcategory", "a subcategory key: 1 to 40 lower-case letters, digits, '_' or '-'", subcategory)
	}
	if subcategory != "" && category == "" {
		f.add(prefix+"subcategory", "a subcategory needs its category", subcategory)
	}
}

// normalizeDetails trims the keys of d.
func normalizeDetails(d *Details) {
	d.Category = strings.TrimSpace(d.Category)
	d.Subcategory = strings.TrimSpace(d.Subcategory)
}

// validateDetails checks a problem's own fields; the locations are under body.
func validateDetails(d Details) error {
	var f fieldErrs
	f.checkKeys("body.", d.Category, d.Subcategory)
	if d.Impact < 1 || d.Impact > 3 {
		f.add("body.impact", "an impact is 1 (high), 2 (medium) or 3 (low)", d.Impact)
	}
	if d.Urgency < 1 || d.Urgency > 3 {
		f.add("body.urgency", "an urgency is 1 (high), 2 (medium) or 3 (low)", d.Urgency)
	}
	if d.CIID < 0 {
		f.add("body.ci", "a CI id", d.CIID)
	}
	return f.err()
}

// validateTrend checks the trend a problem is raised from.
func validateTrend(t *ProblemTrend) error {
	if t == nil {
		return nil
	}
	var f fieldErrs
	if !slices.Contains([]TrendBy{TrendByCategory, TrendByCI, TrendByService}, t.By) {
		f.add("body.trend.by", "one of category, ci, service", string(t.By))
	}
	t.Key = strings.TrimSpace(t.Key)
	f.required("body.trend.key", t.Key, maxTrendKey)
	if t.From.IsZero() {
		f.add("body.trend.from", "the start of the trend's period", nil)
	}
	if t.To.IsZero() {
		f.add("body.trend.to", "the end of the trend's period", nil)
	}
	if !t.From.IsZero() && !t.To.IsZero() && t.To.Before(t.From) {
		f.add("body.trend.to", "the period ends after it starts", t.To)
	}
	if t.Count < 0 {
		f.add("body.trend.count", "a count of incidents, 0 or more", t.Count)
	}
	return f.err()
}

// normalizeNumbers upper-cases the record numbers of a list and checks them:
// each is a record number, none is listed twice; the locations are loc[i].
func normalizeNumbers(loc string, numbers []string) ([]string, error) {
	var f fieldErrs
	if len(numbers) > maxIncidents {
		return nil, errs.Field(loc, fmt.Sprintf("at most %d incidents at once", maxIncidents), len(numbers))
	}
	out := make([]string, len(numbers))
	seen := map[string]int{}
	for i, n := range numbers {
		n = record.NormalizeNumber(n)
		out[i] = n
		at := fmt.Sprintf("%s[%d]", loc, i)
		if !numberPattern.MatchString(n) {
			f.add(at, "not a record number such as INC0000001", n)
			continue
		}
		if j, dup := seen[n]; dup {
			f.add(at, fmt.Sprintf("listed twice (also at %s[%d])", loc, j), n)
			continue
		}
		seen[n] = i
	}
	return out, f.err()
}

// validateProblem checks a new problem's fields besides the record's (which
// the kernel checks) and returns its incident numbers normalised.
func validateProblem(in *NewProblem) ([]string, error) {
	normalizeDetails(&in.Details)
	var f fieldErrs
	if err := validateDetails(in.Details); err != nil {
		e, _ := errs.As(err)
		f = append(f, e.Fields...)
	}
	if in.ServiceID < 0 {
		f.add("body.service", "a service id", in.ServiceID)
	}
	if err := validateTrend(in.Trend); err != nil {
		e, _ := errs.As(err)
		f = append(f, e.Fields...)
	}
	numbers, err := normalizeNumbers("body.incidents", in.Incidents)
	if err != nil {
		e, _ := errs.As(err)
		f = append(f, e.Fields...)
	}
	return numbers, f.err()
}

// originOf is what raised a problem: a trend, else its incidents, else a person.
func originOf(in NewProblem) Origin {
	switch {
	case in.Trend != nil:
		return OriginTrend
	case len(in.Incidents) > 0:
		return OriginIncidents
	}
	return OriginManual
}

// apply returns d changed by c.
func (c ProblemChange) apply(d Details) Details {
	if c.Category != nil {
		d.Category = *c.Category
	}
	if c.Subcategory != nil {
		d.Subcategory = *c.Subcategory
	}
	if c.Impact != nil {
		d.Impact = *c.Impact
	}
	if c.Urgency != nil {
		d.Urgency = *c.Urgency
	}
	if c.Major != nil {
		d.Major = *c.Major
	}
	if c.CIID != nil {
		d.CIID = *c.CIID
	}
	return d
}

// validateRCA checks a root-cause analysis: a known method, text within
// limits, evidence that is a text or an attachment id (not both), and
// findings or a root cause.
func validateRCA(in *NewRCA) error {
	var f fieldErrs
	if !slices.Contains(Methods, in.Method) {
		f.add("body.method", "one of five_whys, fishbone, fault_tree, kepner_tregoe, timeline, other", string(in.Method))
	}
	f.text("body.findings", in.Findings, maxText)
	in.RootCause = strings.TrimSpace(in.RootCause)
	f.text("body.rootCause", in.RootCause, maxShortText)
	if strings.TrimSpace(in.Findings) == "" && in.RootCause == "" {
		f.add("body.findings", "give the findings, the root cause, or both", nil)
	}
	if len(in.Evidence) > maxEvidence {
		f.add("body.evidence", fmt.Sprintf("at most %d pieces of evidence", maxEvidence), len(in.Evidence))
	}
	for i, e := range in.Evidence {
		loc := fmt.Sprintf("body.evidence[%d]", i)
		text := strings.TrimSpace(e.Text)
		switch {
		case text != "" && e.AttachmentID != 0:
			f.add(loc, "a text or an attachment id, not both", nil)
		case text == "" && e.AttachmentID == 0:
			f.add(loc, "a text or an attachment id", nil)
		case e.AttachmentID < 0:
			f.add(loc+".attachmentId", "an attachment id", e.AttachmentID)
		case text != "":
			f.text(loc+".text", text, maxShortText)
		}
		in.Evidence[i].Text, in.Evidence[i].AttachmentName = text, ""
	}
	return f.err()
}

// validateReview checks a problem review: a summary, lessons and follow-ups within limits.
func validateReview(in *NewReview) error {
	var f fieldErrs
	in.Summary = strings.TrimSpace(in.Summary)
	f.required("body.summary", in.Summary, maxShortText)
	f.text("body.lessons", in.Lessons, maxText)
	if len(in.FollowUps) > maxFollowUps {
		f.add("body.followUps", fmt.Sprintf("at most %d follow-ups", maxFollowUps), len(in.FollowUps))
	}
	for i, s := range in.FollowUps {
		in.FollowUps[i] = strings.TrimSpace(s)
		f.required(fmt.Sprintf("body.followUps[%d]", i), in.FollowUps[i], maxFollowUp)
	}
	if in.FollowUps == nil {
		in.FollowUps = []string{}
	}
	return f.err()
}

// validateRFC checks an RFC reference: a short single-line text such as
// "RFC-2026-0042", or an absolute http(s) URL.
func validateRFC(loc, ref string) error {
	var f fieldErrs
	f.required(loc, ref, maxRFC)
	if strings.ContainsAny(ref, "\r\n\t") {
		f.add(loc, "a single line", nil)
	}
	lower := strings.ToLower(ref)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "http") {
		u, err := url.Parse(ref)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.add(loc, "a reference such as RFC-2026-0042, or an http(s) URL", ref)
		}
	}
	return f.err()
}

// validateStep checks what a caller sends with a problem's step: the RFC
// reference raise_rfc needs and only it takes, and a resolution only with resolve.
func validateStep(action string, in *StepInput) error {
	var f fieldErrs
	in.RFC = strings.TrimSpace(in.RFC)
	switch {
	case action == "raise_rfc":
		if err := validateRFC("body.rfc", in.RFC); err != nil {
			e, _ := errs.As(err)
			f = append(f, e.Fields...)
		}
	case in.RFC != "":
		f.add("body.rfc", "only raise_rfc takes an RFC reference", nil)
	}
	if in.Resolution != "" && action != "resolve" {
		f.add("body.resolution", "only resolve takes a resolution", nil)
	}
	f.text("body.resolution", in.Resolution, maxText)
	return f.err()
}

// knownErrorFields checks a known error's own fields; the locations are under body.
func knownErrorFields(symptoms, rootCause, workaround, category, subcategory string, serviceID, ciID int64) error {
	var f fieldErrs
	f.required("body.symptoms", symptoms, maxText)
	f.text("body.rootCause", rootCause, maxShortText)
	f.text("body.workaround", workaround, maxText)
	f.checkKeys("body.", category, subcategory)
	if serviceID < 0 {
		f.add("body.service", "a service id", serviceID)
	}
	if ciID < 0 {
		f.add("body.ci", "a CI id", ciID)
	}
	return f.err()
}

// publishable refuses to publish a known error that would not help an agent:
// it needs its symptoms and a root cause or a workaround.
func publishable(number string, symptoms, rootCause, workaround string) error {
	var missing []string
	if strings.TrimSpace(symptoms) == "" {
		missing = append(missing, "its symptoms")
	}
	if strings.TrimSpace(rootCause) == "" && strings.TrimSpace(workaround) == "" {
		missing = append(missing, "a root cause or a workaround")
	}
	if len(missing) == 0 {
		return nil
	}
	return errs.E(errs.Conflict, "publishing %s needs %s first", number, strings.Join(missing, " and "))
}
