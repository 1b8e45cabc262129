// Package calendar holds business calendars: weekly working windows in a time
// zone, minus holidays, and the arithmetic of business time over them
// (Schedule), with their store, service and API.
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	// The zone database is embedded so that calendars work without system tzdata.
	_ "time/tzdata"

	"steward/internal/platform/errs"
)

// Calendar is a named business calendar: when work happens, in local time of its zone.
type Calendar struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	TimeZone    string    `json:"timeZone"`
	Windows     []Window  `json:"windows"`
	Holidays    []Holiday `json:"holidays"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Window is a weekly stretch of working time starting on a day of the week.
type Window struct {
	// Day is "mon" to "sun": the day the window starts.
	Day string `json:"day"`
	// Start is the local start time, "HH:MM".
	Start string `json:"start"`
	// End is the local end time, "HH:MM"; "24:00" is midnight at the end of the day.
	End string `json:"end"`
	// EndsNextDay says End falls on the following day (an overnight window).
	EndsNextDay bool `json:"endsNextDay"`
}

// Holiday is a local date on which no working time counts.
type Holiday struct {
	// Date is the local date, "2006-01-02".
	Date string `json:"date"`
	Name string `json:"name"`
}

// Days are the day keys of a window, Monday first.
var Days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Limits on a calendar's size.
const (
	MaxWindows  = 100
	MaxHolidays = 2000
	minPerDay   = 24 * 60
	minPerWeek  = 7 * minPerDay
)

// dayIndex is the position of a day key in Days (Monday 0), or -1.
func dayIndex(d string) int { return slices.Index(Days, d) }

// weekdayIndex maps a time.Weekday to its position in Days.
func weekdayIndex(w time.Weekday) int { return (int(w) + 6) % 7 }

// parseClock reads "HH:MM" into minutes after midnight; allow24 admits "24:00".
func parseClock(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && (m != 0 || !allow24)) {
		return 0, false
	}
	return h*60 + m, true
}

// parseDate reads a "2006-01-02" date.
func parseDate(s string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return time.Time{}, false
	}
	return d, true
}

// LoadZone returns the location of an IANA time zone name; "" and "Local" are refused.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return nil, errs.Field("body.timeZone", "an IANA time zone such as Europe/Brussels or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errs.Field("body.timeZone", "unknown time zone", name)
	}
	return loc, nil
}

// weekly is a window as minutes of the week: [from, to) from Monday 00:00, to possibly past the week's end.
type weekly struct{ from, to, index int }

// fieldErrs gathers field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, no control
// characters but line breaks and tabs; required text must not be blank.
func (f *fieldErrs) text(loc, s string, max int, required bool) {
	switch {
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case required && strings.TrimSpace(s) == "":
		f.add(loc, "required", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		f.add(loc, "no control characters", nil)
	}
}

// Validate checks a calendar: a name, a known time zone, 1 to MaxWindows
// windows each on a day with an end after its start (with EndsNextDay, an end
// not after its start) and none overlapping another (an overnight window's
// spill past midnight included, Sunday's into Monday), and well-formed,
// distinct holiday dates. Errors name the field, such as body.windows[2].end.
func (c Calendar) Validate() error {
	var f fieldErrs
	f.text("body.name", c.Name, 100, true)
	f.text("body.description", c.Description, 2000, false)
	if _, err := LoadZone(c.TimeZone); err != nil {
		f.add("body.timeZone", "unknown time zone: use an IANA name such as Europe/Brussels or UTC", c.TimeZone)
	}
	switch {
	case len(c.Windows) == 0:
		f.add("body.windows", "give at least one working window", nil)
	case len(c.Windows) > MaxWindows:
		f.add("body.windows", fmt.Sprintf("at most %d windows", MaxWindows), len(c.Windows))
	}
	var ws []weekly
	for i, w := range c.Windows {
		if i >= MaxWindows {
			break
		}
		loc := fmt.Sprintf("body.windows[%d]", i)
		day := dayIndex(w.Day)
		if day < 0 {
			f.add(loc+".day", "one of mon, tue, wed, thu, fri, sat, sun", w.Day)
		}
		start, okS := parseClock(w.Start, false)
		if !okS {
			f.add(loc+".start", "a local time HH:MM from 00:00 to 23:59", w.Start)
		}
		end, okE := parseClock(w.End, !w.EndsNextDay)
		if !okE {
			if w.EndsNextDay {
				f.add(loc+".end", "a local time HH:MM from 00:00 to 23:59 on the next day", w.End)
			} else {
				f.add(loc+".end", "a local time HH:MM from 00:01 to 24:00", w.End)
			}
		}
		if !okS || !okE {
			continue
		}
		switch {
		case !w.EndsNextDay && end <= start:
			f.add(loc+".end", "the end must be after the start; for an overnight window set endsNextDay", w.End)
			continue
		case w.EndsNextDay && end > start:
			f.add(loc+".end", "an overnight window must end the next day no later than its start time", w.End)
			continue
		}
		if day < 0 {
			continue
		}
		if w.EndsNextDay {
			end += minPerDay
		}
		ws = append(ws, weekly{from: day*minPerDay + start, to: day*minPerDay + end, index: i})
	}
	for j := range ws {
		for i := range j {
			if overlaps(ws[i], ws[j]) {
				f.add(fmt.Sprintf("body.windows[%d]", ws[j].index),
					fmt.Sprintf("overlaps windows[%d]", ws[i].index), c.Windows[ws[j].index])
				break
			}
		}
	}
	if len(c.Holidays) > MaxHolidays {
		f.add("body.holidays", fmt.Sprintf("at most %d holidays", MaxHolidays), len(c.Holidays))
	}
	seen := make(map[string]int, len(c.Holidays))
	for i, h := range c.Holidays {
		loc := fmt.Sprintf("body.holidays[%d]", i)
		if _, ok := parseDate(h.Date); !ok {
			f.add(loc+".date", "a date YYYY-MM-DD", h.Date)
		} else if j, dup := seen[h.Date]; dup {
			f.add(loc+".date", fmt.Sprintf("the same date as holidays[%d]", j), h.Date)
		} else {
			seen[h.Date] = i
		}
		f.text(loc+".name", h.Name, 200, false)
	}
	return errs.WithFields(f)
}

// overlaps reports whether two weekly windows share a minute, on the cyclic week.
func overlaps(a, b weekly) bool {
	for _, shift := range []int{-minPerWeek, 0, minPerWeek} {
		if a.from < b.to+shift && b.from+shift < a.to {
			return true
		}
	}
	return false
}

// Compile validates the calendar and returns its schedule.
func (c Calendar) Compile() (*Schedule, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	loc, err := LoadZone(c.TimeZone)
	if err != nil {
		return nil, err
	}
	s := &Schedule{loc: loc, holidays: map[civil]string{}, chunks: map[int]*chunk{}}
	for _, w := range c.Windows {
		day := dayIndex(w.Day)
		start, _ := parseClock(w.Start, false)
		end, _ := parseClock(w.End, !w.EndsNextDay)
		if w.EndsNextDay {
			end += minPerDay
		}
		s.week[day] = append(s.week[day], dayWindow{start: start, end: end})
	}
	for d := range s.week {
		slices.SortFunc(s.week[d], func(a, b dayWindow) int { return a.start - b.start })
	}
	for _, h := range c.Holidays {
		t, _ := parseDate(h.Date)
		s.holidays[civilOf(t)] = h.Name
	}
	return s, nil
}
