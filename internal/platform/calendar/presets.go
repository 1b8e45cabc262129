package calendar

import (
	"strconv"
	"time"
)

// Preset is a ready-made set of working windows to start a calendar from.
type Preset struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Calendar    Calendar `json:"calendar"`
}

// HolidayPreset is a ready-made list of holidays to add to a calendar.
type HolidayPreset struct {
	Key      string    `json:"key"`
	Name     string    `json:"name"`
	Holidays []Holiday `json:"holidays"`
}

// days makes one window per listed day with the same hours.
func days(ds []string, start, end string, nextDay bool) []Window {
	out := make([]Window, 0, len(ds))
	for _, d := range ds {
		out = append(out, Window{Day: d, Start: start, End: end, EndsNextDay: nextDay})
	}
	return out
}

var weekdays = []string{"mon", "tue", "wed", "thu", "fri"}

// Presets are the standard calendars: round the clock, business hours,
// extended hours, a split shift and a night shift. Their zone is UTC; set
// the zone of the people or service they describe.
func Presets() []Preset {
	split := days(weekdays, "07:00", "12:00", false)
	split = append(split, days(weekdays, "13:00", "18:00", false)...)
	ps := []Preset{
		{Key: "24x7", Name: "24×7", Description: "Every hour of every day, holidays included.",
			Calendar: Calendar{Windows: days(Days, "00:00", "24:00", false)}},
		{Key: "business", Name: "Business hours", Description: "Monday to Friday, 08:00 to 17:00.",
			Calendar: Calendar{Windows: days(weekdays, "08:00", "17:00", false)}},
		{Key: "extended", Name: "Extended hours", Description: "Monday to Saturday, 07:00 to 19:00.",
			Calendar: Calendar{Windows: days(Days[:6], "07:00", "19:00", false)}},
		{Key: "split-shift", Name: "Split shift", Description: "Monday to Friday, 07:00 to 12:00 and 13:00 to 18:00.",
			Calendar: Calendar{Windows: split}},
		{Key: "nights", Name: "Night shift", Description: "Sunday to Thursday nights, 22:00 to 06:00 the next morning.",
			Calendar: Calendar{Windows: days([]string{"sun", "mon", "tue", "wed", "thu"}, "22:00", "06:00", true)}},
	}
	for i := range ps {
		ps[i].Calendar.Name, ps[i].Calendar.Description, ps[i].Calendar.TimeZone = ps[i].Name, ps[i].Description, "UTC"
		ps[i].Calendar.Holidays = []Holiday{}
	}
	return ps
}

// HolidayPresets are the US federal holidays of 2026 and 2027, on the days they are observed.
func HolidayPresets() []HolidayPreset {
	var out []HolidayPreset
	for _, y := range []int{2026, 2027} {
		ys := strconv.Itoa(y)
		out = append(out, HolidayPreset{Key: "us-federal-" + ys, Name: "US federal holidays " + ys, Holidays: USFederalHolidays(y)})
	}
	return out
}

// USFederalHolidays lists the US federal holidays observed in year y (5 U.S.C.
// 6103): one on a Saturday is observed the Friday before, one on a Sunday the
// Monday after, so New Year's Day of y+1 may be observed on 31 December of y.
func USFederalHolidays(y int) []Holiday {
	date := func(m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	nth := func(m time.Month, wd time.Weekday, n int) time.Time {
		t := date(m, 1)
		t = t.AddDate(0, 0, (int(wd)-int(t.Weekday())+7)%7+7*(n-1))
		return t
	}
	last := func(m time.Month, wd time.Weekday) time.Time {
		t := date(m+1, 0)
		return t.AddDate(0, 0, -((int(t.Weekday()) - int(wd) + 7) % 7))
	}
	observed := func(t time.Time) time.Time {
		switch t.Weekday() {
		case time.Saturday:
			return t.AddDate(0, 0, -1)
		case time.Sunday:
			return t.AddDate(0, 0, 1)
		}
		return t
	}
	type h struct {
		name string
		t    time.Time
	}
	hs := []h{
		{"New Year's Day", observed(date(time.January, 1))},
		{"Birthday of Martin Luther King, Jr.", nth(time.January, time.Monday, 3)},
		{"Washington's Birthday", nth(time.February, time.Monday, 3)},
		{"Memorial Day", last(time.May, time.Monday)},
		{"Juneteenth National Independence Day", observed(date(time.June, 19))},
		{"Independence Day", observed(date(time.July, 4))},
		{"Labor Day", nth(time.September, time.Monday, 1)},
		{"Columbus Day", nth(time.October, time.Monday, 2)},
		{"Veterans Day", observed(date(time.November, 11))},
		{"Thanksgiving Day", nth(time.November, time.Thursday, 4)},
		{"Christmas Day", observed(date(time.December, 25))},
	}
	if next := date(time.December, 31).AddDate(0, 0, 1); next.Weekday() == time.Saturday {
		hs = append(hs, h{"New Year's Day (observed)", date(time.December, 31)})
	}
	out := make([]Holiday, 0, len(hs))
	for _, x := range hs {
		if x.t.Year() != y {
			continue
		}
		out = append(out, Holiday{Date: x.t.Format(time.DateOnly), Name: x.name})
	}
	return out
}
