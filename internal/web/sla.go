package web

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

// Shared helpers of the service level and availability pages: the reporting
// period a dashboard shows, and durations written for people.

// periodChoices are the periods a dashboard offers, in months ending with the current one.
var periodChoices = []int{1, 3, 6, 12, 24}

// period is the reporting period of a dashboard: whole UTC months ending with the current one.
type period struct {
	Months   int
	From, To time.Time
	// Options are the choices of the period select.
	Options []option
}

// readPeriod reads ?months= (default 12) and the period it stands for at now.
func readPeriod(q url.Values, now time.Time) period {
	months, err := strconv.Atoi(q.Get("months"))
	ok := false
	for _, m := range periodChoices {
		ok = ok || m == months
	}
	if err != nil || !ok {
		months = 12
	}
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	p := period{Months: months, From: first.AddDate(0, -(months - 1), 0), To: first.AddDate(0, 1, 0)}
	for _, m := range periodChoices {
		label := fmt.Sprintf("Last %d months", m)
		if m == 1 {
			label = "This month"
		}
		p.Options = append(p.Options, option{Value: strconv.Itoa(m), Label: label, Selected: m == months})
	}
	return p
}

// monthLabel writes "2026-03" as "Mar 2026"; anything else as it is.
func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 2006")
}

// shortMonth writes "2026-03" as "Mar 26", for chart axes.
func shortMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 06")
}

// span writes a duration for people, to the minute: "2 d 3 h", "4 h 05 min", "12 min"; negative is "−".
func span(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "−", -d
	}
	m := int64(d / time.Minute)
	switch {
	case d > 0 && m == 0:
		return sign + "< 1 min"
	case m < 60:
		return fmt.Sprintf("%s%d min", sign, m)
	case m < 24*60:
		if m%60 == 0 {
			return fmt.Sprintf("%s%d h", sign, m/60)
		}
		return fmt.Sprintf("%s%d h %02d min", sign, m/60, m%60)
	}
	days, h := m/(24*60), (m%(24*60))/60
	if h == 0 {
		return fmt.Sprintf("%s%d d", sign, days)
	}
	return fmt.Sprintf("%s%d d %d h", sign, days, h)
}

// spanMs writes milliseconds as span does.
func spanMs(ms int64) string { return span(time.Duration(ms) * time.Millisecond) }

// optSpanMs writes a nullable duration in milliseconds; nil is "—".
func optSpanMs(ms *int64) string {
	if ms == nil {
		return "—"
	}
	return spanMs(*ms)
}

// percent writes a percentage with up to three decimals, without trailing zeros: "99.95 %".
func percent(v float64) string {
	return strconv.FormatFloat(roundTo(v, 3), 'f', -1, 64) + " %"
}

// roundTo rounds v to n decimals.
func roundTo(v float64, n int) float64 {
	p := 1.0
	for range n {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

func init() {
	templateFuncs["inc"] = func(i int) int { return i + 1 }
	templateFuncs["monthLabel"] = monthLabel
	templateFuncs["spanMs"] = spanMs
	templateFuncs["percent"] = percent
	// deref is what a pointer points to, nil for a nil pointer.
	templateFuncs["deref"] = func(v any) any {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			return v
		}
		if rv.IsNil() {
			return nil
		}
		return rv.Elem().Interface()
	}
}
