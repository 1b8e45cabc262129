package calendar

import (
	"time"
)

// WeekPreview is the working time of one week of a calendar, day by day in its zone.
type WeekPreview struct {
	TimeZone string `json:"timeZone"`
	// WeekStart is the Monday the week starts on, "2006-01-02".
	WeekStart  string       `json:"weekStart"`
	Days       []DayPreview `json:"days"`
	TotalMs    int64        `json:"totalMs"`
	TotalHours float64      `json:"totalHours"`
}

// DayPreview is the working time of one local day.
type DayPreview struct {
	Date string `json:"date"`
	// Day is "mon" to "sun".
	Day string `json:"day"`
	// Holiday names the holiday on the date, if any.
	Holiday   string        `json:"holiday,omitempty"`
	Spans     []PreviewSpan `json:"spans"`
	WorkingMs int64         `json:"workingMs"`
	Hours     float64       `json:"hours"`
}

// PreviewSpan is a stretch of working time within one local day.
type PreviewSpan struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Start and End are the local wall times, "HH:MM"; End is "24:00" at the day's end.
	Start string `json:"start"`
	End   string `json:"end"`
	// StartMinute and EndMinute are the wall times in minutes after local midnight (EndMinute up to 1440).
	StartMinute int `json:"startMinute"`
	EndMinute   int `json:"endMinute"`
}

// MondayOf is the Monday of the week holding the date of d (its year, month
// and day as written, whatever its location).
func MondayOf(d time.Time) time.Time {
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -weekdayIndex(day.Weekday()))
}

// Week lays out the working time of the week holding the date of weekStart
// (Monday to Sunday, local days of the schedule's zone).
func (s *Schedule) Week(weekStart time.Time) WeekPreview {
	mon := MondayOf(weekStart)
	wp := WeekPreview{TimeZone: s.loc.String(), WeekStart: mon.Format(time.DateOnly), Days: make([]DayPreview, 0, 7)}
	for i := range 7 {
		day := mon.AddDate(0, 0, i)
		y, m, d := day.Date()
		from := time.Date(y, m, d, 0, 0, 0, 0, s.loc)
		to := time.Date(y, m, d+1, 0, 0, 0, 0, s.loc)
		dp := DayPreview{Date: day.Format(time.DateOnly), Day: Days[i], Spans: []PreviewSpan{}}
		dp.Holiday, _ = s.Holiday(y, m, d)
		for _, sp := range s.Spans(from, to) {
			f, t := sp.From.In(s.loc), sp.To.In(s.loc)
			ps := PreviewSpan{From: f, To: t, StartMinute: f.Hour()*60 + f.Minute(), EndMinute: t.Hour()*60 + t.Minute()}
			if !t.Before(to) {
				ps.EndMinute = minPerDay
			}
			ps.Start, ps.End = clockText(ps.StartMinute), clockText(ps.EndMinute)
			dp.Spans = append(dp.Spans, ps)
			dp.WorkingMs += t.Sub(f).Milliseconds()
		}
		dp.Hours = float64(dp.WorkingMs) / float64(time.Hour/time.Millisecond)
		wp.TotalMs += dp.WorkingMs
		wp.Days = append(wp.Days, dp)
	}
	wp.TotalHours = float64(wp.TotalMs) / float64(time.Hour/time.Millisecond)
	return wp
}

// clockText writes minutes after midnight as "HH:MM".
func clockText(min int) string {
	const digits = "0123456789"
	h, m := min/60, min%60
	return string([]byte{digits[h/10], digits[h%10], ':', digits[m/10], digits[m%10]})
}

// PreviewWeek validates an unsaved calendar and lays out one week of it.
func PreviewWeek(c Calendar, weekStart time.Time) (WeekPreview, error) {
	s, err := c.Compile()
	if err != nil {
		return WeekPreview{}, err
	}
	return s.Week(weekStart), nil
}
