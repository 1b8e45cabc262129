package servicenow

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// parseTime reads one date and time of an export. It accepts, with or without seconds
// (and fractions of a second):
//
//   - 29-02-2016 01:16 (day first, ServiceNow's export format; also with / or . between the parts);
//   - 02/29/2016 01:16 and 02/29/2016 1:16 PM (month first, when order says so or the day is above 12);
//   - 2016-02-29 01:16:00 and 2016-02-29T01:16:00Z or +01:00 (year first, ISO 8601);
//   - a date alone, read as midnight.
//
// A date without an offset is in loc; the result is UTC. "?" and empty are the zero time.
// order says how a day-month-year date whose day and month are both 12 or less is read;
// DateOrderAuto reads it day first. A date that contradicts a decided order is an error.
func parseTime(s string, loc *time.Location, order DateOrder) (time.Time, error) {
	s = strings.TrimSpace(s)
	if isEmpty(s) {
		return time.Time{}, nil
	}
	t, err := readTime(s, loc, order)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot read date %q: %w", s, err)
	}
	return t, nil
}

// readTime does parseTime's work for a value that is not empty.
func readTime(s string, loc *time.Location, order DateOrder) (time.Time, error) {
	datePart, timePart := s, ""
	if i := strings.IndexAny(s, " T"); i >= 0 {
		datePart, timePart = s[:i], strings.TrimSpace(s[i+1:])
	}
	y, m, d, err := readDate(datePart, order)
	if err != nil {
		return time.Time{}, err
	}
	var hh, mm, ss, nsec int
	zone := loc
	if timePart != "" {
		if hh, mm, ss, nsec, zone, err = readClock(timePart, loc); err != nil {
			return time.Time{}, err
		}
	} else if len(datePart) != len(s) && s[len(datePart)] == 'T' {
		return time.Time{}, errors.New("no time after T")
	}
	if y < 1 || y > 9999 {
		return time.Time{}, errors.New("year out of range")
	}
	if m < 1 || m > 12 {
		return time.Time{}, errors.New("month out of range")
	}
	if d < 1 || d > daysIn(y, m) {
		return time.Time{}, errors.New("no such day in that month")
	}
	return time.Date(y, time.Month(m), d, hh, mm, ss, nsec, zone).UTC(), nil
}

// readDate splits a date into year, month and day: year first when the first part has
// four digits, else day and month in the given order (a part above 12 decides).
func readDate(s string, order DateOrder) (y, m, d int, err error) {
	a, b, c, ok := splitDate(s)
	if !ok {
		return 0, 0, 0, errors.New("not a date")
	}
	if len(a) == 4 {
		if len(b) > 2 || len(c) > 2 {
			return 0, 0, 0, errors.New("not a date")
		}
		return atoi(a), atoi(b), atoi(c), nil
	}
	if len(c) != 4 || len(a) > 2 || len(b) > 2 {
		return 0, 0, 0, errors.New("the year must have four digits")
	}
	first, second := atoi(a), atoi(b)
	switch dateEvidenceOf(first, second) {
	case DayFirst:
		if order == MonthFirst {
			return 0, 0, 0, errors.New("day first, but the file's dates are month first")
		}
		return atoi(c), second, first, nil
	case MonthFirst:
		if order == DayFirst {
			return 0, 0, 0, errors.New("month first, but the file's dates are day first")
		}
		return atoi(c), first, second, nil
	}
	if first > 12 && second > 12 {
		return 0, 0, 0, errors.New("neither part can be the month")
	}
	if order == MonthFirst {
		return atoi(c), first, second, nil
	}
	return atoi(c), second, first, nil
}

// dateEvidence reports the order a numeric day-month date proves (one part above 12
// and the other not), or DateOrderAuto when the value proves nothing.
func dateEvidence(s string) DateOrder {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " T"); i >= 0 {
		s = s[:i]
	}
	a, b, c, ok := splitDate(s)
	if !ok || len(a) > 2 || len(b) > 2 || len(c) != 4 {
		return DateOrderAuto
	}
	return dateEvidenceOf(atoi(a), atoi(b))
}

// dateEvidenceOf is dateEvidence on the first two parts of a date.
func dateEvidenceOf(first, second int) DateOrder {
	switch {
	case first > 12 && second >= 1 && second <= 12:
		return DayFirst
	case second > 12 && first >= 1 && first <= 12:
		return MonthFirst
	}
	return DateOrderAuto
}

// splitDate cuts a date into its three runs of digits, separated twice by the same
// one of "-", "/" or ".".
func splitDate(s string) (a, b, c string, ok bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || !strings.ContainsRune("-/.", rune(s[i])) {
		return "", "", "", false
	}
	sep := s[i]
	parts := strings.Split(s, string(sep))
	if len(parts) != 3 {
		return "", "", "", false
	}
	for _, p := range parts {
		if p == "" || len(p) > 4 || !allDigits(p) {
			return "", "", "", false
		}
	}
	return parts[0], parts[1], parts[2], true
}

// readClock reads "01:16", "1:16:05", "01:16:05.123", each optionally followed by AM or PM,
// or by Z, UTC or an offset such as +01:00 or -0500 (which then replaces loc).
func readClock(s string, loc *time.Location) (hh, mm, ss, nsec int, zone *time.Location, err error) {
	zone = loc
	fail := func(msg string) (int, int, int, int, *time.Location, error) {
		return 0, 0, 0, 0, nil, errors.New(msg)
	}
	i := 0
	digits := func(min, max int) (int, bool) {
		j := i
		for i < len(s) && isDigit(s[i]) && i-j < max {
			i++
		}
		if i-j < min || (i < len(s) && isDigit(s[i])) {
			return 0, false
		}
		return atoi(s[j:i]), true
	}
	var ok bool
	if hh, ok = digits(1, 2); !ok {
		return fail("not a time")
	}
	if i >= len(s) || s[i] != ':' {
		return fail("not a time")
	}
	i++
	if mm, ok = digits(2, 2); !ok {
		return fail("not a time")
	}
	if i < len(s) && s[i] == ':' {
		i++
		if ss, ok = digits(2, 2); !ok {
			return fail("not a time")
		}
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			i++
			j := i
			for i < len(s) && isDigit(s[i]) && i-j < 9 {
				i++
			}
			if i == j || (i < len(s) && isDigit(s[i])) {
				return fail("not a time")
			}
			frac := s[j:i]
			nsec = atoi(frac + strings.Repeat("0", 9-len(frac)))
		}
	}
	rest := strings.TrimSpace(s[i:])
	switch up := strings.ToUpper(rest); {
	case up == "":
	case up == "AM" || up == "PM":
		if hh < 1 || hh > 12 {
			return fail("hour out of range for AM/PM")
		}
		hh %= 12
		if up == "PM" {
			hh += 12
		}
	case up == "Z" || up == "UTC" || up == "GMT":
		zone = time.UTC
	default:
		off, ok := readOffset(rest)
		if !ok {
			return fail("unknown text after the time")
		}
		zone = time.FixedZone("", off)
	}
	if hh > 23 || mm > 59 || ss > 59 {
		return fail("time out of range")
	}
	return hh, mm, ss, nsec, zone, nil
}

// readOffset reads a UTC offset "+01:00", "-0500" or "+01" as seconds east of UTC.
func readOffset(s string) (int, bool) {
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	body := strings.Replace(s[1:], ":", "", 1)
	if !allDigits(body) || (len(body) != 2 && len(body) != 4) {
		return 0, false
	}
	h, m := atoi(body[:2]), 0
	if len(body) == 4 {
		m = atoi(body[2:])
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// daysIn is the number of days of month m in year y.
func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// atoi reads a short run of ASCII digits (callers check the run first; at most 9 digits).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
