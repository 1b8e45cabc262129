package web

import (
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/calendar"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/web/chart"
)

// The business calendars of service level management: the list, and one form
// for a new calendar and for editing one. The form keeps rows of working
// windows (day, start, end, ends the next day) and of holidays; blank rows are
// left out. It applies a preset or a holiday list, and draws a week of the
// calendar on "Preview" without saving it. Saving and deleting go through
// calendar.Service, which guards them (R or A on SLM1).

// blankRows is how many empty rows the form offers below the filled ones.
const blankRows = 3

// calendarRow is one calendar in the list.
type calendarRow struct {
	calendar.Calendar
	// Hours is the working time of a plain week.
	Hours string
	// Changed is when the calendar was last changed; zero for a seeded one never changed.
	Changed time.Time
}

// calendarList serves GET /calendars.
func (s *site) calendarList(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	cals, err := s.Calendars.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]calendarRow, 0, len(cals))
	for _, c := range cals {
		row := calendarRow{Calendar: c, Hours: chart.Hours(weeklyMinutes(c.Windows))}
		if c.UpdatedAt.UnixMilli() > 0 {
			row.Changed = c.UpdatedAt
		}
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "calendars", &view{Title: "Business calendars", Section: "sla", User: p, Data: rows,
		Flash: calendarFlashes[r.URL.Query().Get("m")]})
	return nil
}

// calendarFlashes are the confirmations the calendar pages show after a redirect.
var calendarFlashes = map[string]string{
	"saved":   "The calendar was saved. Clocks that use it are recomputed.",
	"created": "The calendar was created.",
	"deleted": "The calendar was deleted.",
}

// weeklyMinutes is the working time of the windows in a week without holidays.
func weeklyMinutes(ws []calendar.Window) int {
	n := 0
	for _, w := range ws {
		start, ok1 := clockMinutes(w.Start)
		end, ok2 := clockMinutes(w.End)
		if !ok1 || !ok2 {
			continue
		}
		if w.EndsNextDay {
			end += 24 * 60
		}
		if end > start {
			n += end - start
		}
	}
	return n
}

// clockMinutes reads "HH:MM" as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// windowRow is one row of the windows table as the form shows it.
type windowRow struct {
	Index                   int
	Day, Start, End         string
	NextDay                 bool
	Days                    []option
	Error, DayErr, StartErr string
	EndErr                  string
}

// holidayRow is one row of the holidays table as the form shows it.
type holidayRow struct {
	Index                   int
	Date, Name              string
	Error, DateErr, NameErr string
}

// calendarForm is the content of the new and edit pages.
type calendarForm struct {
	// ID and Version are the calendar being edited; 0 for a new one.
	ID, Version int64
	Form        *form
	Windows     []windowRow
	Holidays    []holidayRow
	Presets     []option
	HolidaySets []option
	Zones       []string
	// Week is the preview's week (its Monday, YYYY-MM-DD) and Preview its drawing.
	Week    string
	Preview *weekPreview
	// Action is where the form posts.
	Action string
}

// weekPreview is the drawn week with its total.
type weekPreview struct {
	Chart template.HTML
	Total string
}

// commonZones are offered as suggestions for the time zone; any IANA name works.
var commonZones = []string{"UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu",
	"America/Anchorage", "Europe/London", "Europe/Brussels", "Europe/Berlin", "Asia/Tokyo", "Asia/Seoul", "Pacific/Guam"}

var dayLabels = map[string]string{"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}

// newCalendarForm serves GET /calendars/new: an empty form starting from business hours.
func (s *site) newCalendarForm(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c := calendar.Calendar{TimeZone: "UTC"}
	if ps := presetByKey(r.URL.Query().Get("preset")); ps != nil {
		c = ps.Calendar
		c.Name = ""
	}
	return s.renderCalendarForm(w, r, p, http.StatusOK, c, newForm(), "", false, 0)
}

// calendarEditForm serves GET /calendars/{id}.
func (s *site) calendarEditForm(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "there is no such calendar")
	}
	c, err := s.Calendars.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return s.renderCalendarForm(w, r, p, http.StatusOK, c, newForm(), r.URL.Query().Get("week"), true, 0)
}

// presetByKey finds a calendar preset.
func presetByKey(key string) *calendar.Preset {
	for _, ps := range calendar.Presets() {
		if ps.Key == key {
			return &ps
		}
	}
	return nil
}

// calendarPost serves POST /calendars/new and POST /calendars/{id}: apply a
// preset or a holiday list, add rows, preview, or save.
func (s *site) calendarPost(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	var id int64
	if v := r.PathValue("id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errs.E(errs.NotFound, "there is no such calendar")
		}
		id = n
	}
	f := newForm()
	c := readCalendarForm(r, f)
	c.ID = id
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	c.Version = version
	extra, status := 0, http.StatusOK
	switch r.PostFormValue("op") {
	case "preset":
		ps := presetByKey(r.PostFormValue("preset"))
		if ps == nil {
			f.Set("preset", "Pick a preset from the list.")
			break
		}
		c.Windows = ps.Calendar.Windows
		if strings.TrimSpace(c.Name) == "" {
			c.Name = ps.Name
		}
		if c.Description == "" {
			c.Description = ps.Description
		}
	case "holidays":
		key := r.PostFormValue("holidaySet")
		i := slices.IndexFunc(calendar.HolidayPresets(), func(h calendar.HolidayPreset) bool { return h.Key == key })
		if i < 0 {
			f.Set("holidaySet", "Pick a list of holidays.")
			break
		}
		for _, h := range calendar.HolidayPresets()[i].Holidays {
			if !slices.ContainsFunc(c.Holidays, func(x calendar.Holiday) bool { return x.Date == h.Date }) {
				c.Holidays = append(c.Holidays, h)
			}
		}
		slices.SortFunc(c.Holidays, func(a, b calendar.Holiday) int { return strings.Compare(a.Date, b.Date) })
	case "rows":
		extra = 5
	case "preview":
		if err := c.Validate(); err != nil {
			calendarErrors(f, err)
		}
	case "save":
		if f.Failed() {
			break
		}
		var saved calendar.Calendar
		var err error
		if id == 0 {
			saved, err = s.Calendars.Create(r.Context(), c)
		} else {
			saved, err = s.Calendars.Update(r.Context(), id, version, c)
		}
		if err == nil {
			m := "saved"
			if id == 0 {
				m = "created"
			}
			redirect(w, r, fmt.Sprintf("/calendars/%d?m=%s", saved.ID, m))
			return nil
		}
		switch errs.KindOf(err) {
		case errs.Invalid:
			calendarErrors(f, err)
		case errs.Forbidden, errs.Conflict, errs.PreconditionFailed:
			f.Error = sentence(errMessage(err))
			status = httpx.Status(errs.KindOf(err))
		default:
			return err
		}
	default:
		f.Error = "Pick what to do: preview, apply a preset, or save."
	}
	if f.Failed() && status == http.StatusOK {
		status = http.StatusUnprocessableEntity
	}
	return s.renderCalendarForm(w, r, p, status, c, f, r.PostFormValue("week"), true, extra)
}

// calendarDelete serves POST /calendars/{id}/delete.
func (s *site) calendarDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "there is no such calendar")
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err := s.Calendars.Delete(r.Context(), id, version); err != nil {
		return err
	}
	redirect(w, r, "/calendars?m=deleted")
	return nil
}

// readCalendarForm reads the posted calendar, leaving out blank rows (the form
// comes back without them, so rows keep the calendar's numbering).
func readCalendarForm(r *http.Request, f *form) (c calendar.Calendar) {
	get := func(k string) string {
		v := r.PostFormValue(k)
		f.Values[k] = v
		return strings.TrimSpace(v)
	}
	c.Name, c.Description, c.TimeZone = get("name"), get("description"), get("timeZone")
	get("preset")
	get("holidaySet")
	for i := 0; i < calendar.MaxWindows+20; i++ {
		k := "windows-" + strconv.Itoa(i)
		if _, ok := r.PostForm[k+"-day"]; !ok {
			break
		}
		wd := calendar.Window{Day: get(k + "-day"), Start: get(k + "-start"), End: get(k + "-end"), EndsNextDay: get(k+"-next") != ""}
		if wd.Start == "" && wd.End == "" {
			continue
		}
		c.Windows = append(c.Windows, wd)
	}
	for i := 0; i < calendar.MaxHolidays+20; i++ {
		k := "holidays-" + strconv.Itoa(i)
		if _, ok := r.PostForm[k+"-date"]; !ok {
			break
		}
		h := calendar.Holiday{Date: get(k + "-date"), Name: get(k + "-name")}
		if h.Date == "" && h.Name == "" {
			continue
		}
		c.Holidays = append(c.Holidays, h)
	}
	return c
}

// calendarLocation matches a calendar field error's location: body.windows[2].end.
var calendarLocation = regexp.MustCompile(`^(?:body\.)?(windows|holidays)(?:\[(\d+)\](?:\.(\w+))?)?$`)

// rowRef matches a row named in a message, such as "windows[1]".
var rowRef = regexp.MustCompile(`(windows|holidays)\[(\d+)\]`)

// calendarErrors puts a calendar's validation errors on the form's fields and
// rows, numbering rows from 1 as the form shows them.
func calendarErrors(f *form, err error) {
	e, ok := errs.As(err)
	if !ok {
		f.Error = "The calendar could not be checked."
		return
	}
	row := func(_ string, i int) int { return i }
	noun := map[string]string{"windows": "Window", "holidays": "Holiday"}
	for _, fe := range e.Fields {
		msg := strings.ReplaceAll(fe.Message, "set endsNextDay", "tick “Ends the next day”")
		msg = rowRef.ReplaceAllStringFunc(msg, func(m string) string {
			sub := rowRef.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sub[2])
			return strings.ToLower(noun[sub[1]]) + " " + strconv.Itoa(row(sub[1], n)+1)
		})
		loc := strings.TrimPrefix(fe.Location, "body.")
		if m := calendarLocation.FindStringSubmatch(fe.Location); m != nil {
			if m[2] == "" {
				f.Set(m[1], sentence(msg))
				continue
			}
			n, _ := strconv.Atoi(m[2])
			name := m[1] + "-" + strconv.Itoa(row(m[1], n))
			label := noun[m[1]] + " " + strconv.Itoa(row(m[1], n)+1)
			if m[3] != "" {
				name += "-" + m[3]
				label += ", " + fieldWord(m[3])
			}
			f.Set(name, label+": "+strings.TrimSuffix(msg, ".")+".")
			continue
		}
		if loc == "" {
			f.Error = sentence(msg)
			continue
		}
		f.Set(loc, sentence(msg))
	}
	if len(e.Fields) == 0 {
		f.Error = sentence(e.Message)
	}
}

// fieldWord names a row's field in an error message.
func fieldWord(name string) string {
	switch name {
	case "day":
		return "day"
	case "start":
		return "start"
	case "end":
		return "end"
	case "date":
		return "date"
	}
	return name
}

// renderCalendarForm writes the calendar form with c's rows, the form's errors
// and, when asked, a preview of the week.
func (s *site) renderCalendarForm(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, c calendar.Calendar,
	f *form, week string, preview bool, extra int) error {
	more := blankRows + extra
	d := &calendarForm{ID: c.ID, Version: c.Version, Form: f, Zones: commonZones, Action: "/calendars/new"}
	if c.ID != 0 {
		d.Action = "/calendars/" + itoa(c.ID)
	}
	f.Values["name"], f.Values["description"], f.Values["timeZone"] = c.Name, c.Description, c.TimeZone
	for i, wd := range c.Windows {
		d.Windows = append(d.Windows, s.windowRow(i, wd, f))
	}
	for i := range more {
		d.Windows = append(d.Windows, s.windowRow(len(c.Windows)+i, calendar.Window{}, f))
	}
	for i, h := range c.Holidays {
		d.Holidays = append(d.Holidays, holidayRowOf(i, h, f))
	}
	for i := range more {
		d.Holidays = append(d.Holidays, holidayRowOf(len(c.Holidays)+i, calendar.Holiday{}, f))
	}
	for _, ps := range calendar.Presets() {
		d.Presets = append(d.Presets, option{Value: ps.Key, Label: ps.Name + ": " + strings.TrimSuffix(ps.Description, "."), Selected: f.Value("preset") == ps.Key})
	}
	for _, hs := range calendar.HolidayPresets() {
		d.HolidaySets = append(d.HolidaySets, option{Value: hs.Key, Label: hs.Name, Selected: f.Value("holidaySet") == hs.Key})
	}
	d.Week = week
	if _, err := time.Parse(time.DateOnly, week); err != nil {
		d.Week = ""
	}
	if preview {
		d.Preview = previewWeek(c, d.Week, time.Now())
	}
	if d.Week == "" {
		d.Week = calendar.MondayOf(time.Now().UTC()).Format(time.DateOnly)
	}
	title := "New calendar"
	if c.ID != 0 {
		title = "Calendar: " + c.Name
	}
	s.render(w, r, status, "calendar", &view{Title: title, Section: "sla", User: p, Data: d, Flash: calendarFlashes[r.URL.Query().Get("m")]})
	return nil
}

// windowRow prepares one row of the windows table with its errors.
func (s *site) windowRow(i int, wd calendar.Window, f *form) windowRow {
	k := "windows-" + strconv.Itoa(i)
	row := windowRow{Index: i, Day: wd.Day, Start: wd.Start, End: wd.End, NextDay: wd.EndsNextDay,
		Error: f.Err(k), DayErr: f.Err(k + "-day"), StartErr: f.Err(k + "-start"), EndErr: f.Err(k + "-end")}
	for _, day := range calendar.Days {
		row.Days = append(row.Days, option{Value: day, Label: dayLabels[day], Selected: day == wd.Day})
	}
	return row
}

// holidayRowOf prepares one row of the holidays table with its errors.
func holidayRowOf(i int, h calendar.Holiday, f *form) holidayRow {
	k := "holidays-" + strconv.Itoa(i)
	return holidayRow{Index: i, Date: h.Date, Name: h.Name, Error: f.Err(k), DateErr: f.Err(k + "-date"), NameErr: f.Err(k + "-name")}
}

// previewWeek draws the week holding the date week (today's when empty or
// not a date) in the calendar's zone; nil when the calendar does not compile.
func previewWeek(c calendar.Calendar, week string, now time.Time) *weekPreview {
	sched, err := c.Compile()
	if err != nil {
		return nil
	}
	start := now.In(sched.Location())
	if t, err := time.Parse(time.DateOnly, week); err == nil {
		start = t
	}
	wp := sched.Week(start)
	days := make([]chart.Day, 0, len(wp.Days))
	for _, dp := range wp.Days {
		cd := chart.Day{Label: dp.Date}
		if t, err := time.Parse(time.DateOnly, dp.Date); err == nil {
			cd.Label = t.Format("Mon 2 Jan")
		}
		if dp.Holiday != "" {
			cd.Note = "Holiday: " + dp.Holiday
		}
		for _, sp := range dp.Spans {
			cd.Spans = append(cd.Spans, chart.Span{From: sp.StartMinute, To: sp.EndMinute})
		}
		days = append(days, cd)
	}
	total := chart.Hours(int(wp.TotalMs / 60000))
	name := c.Name
	if name == "" {
		name = "This calendar"
	}
	monday, _ := time.Parse(time.DateOnly, wp.WeekStart)
	wk := chart.Week{ID: "week-preview", Title: fmt.Sprintf("%s, week of %s (%s)", name, monday.Format("Monday 2 January 2006"), wp.TimeZone),
		Desc: fmt.Sprintf("Working time per day, %s in total; holidays are marked.", total), Days: days}
	return &weekPreview{Chart: wk.Render(), Total: total}
}
