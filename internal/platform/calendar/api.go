package calendar

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// RegisterAPI adds the business calendar endpoints to a. Reading needs a
// signed-in caller; changing a calendar needs R or A on SLM1 (decided in the service).
func RegisterAPI(a *httpx.API, s *Service) {
	tag := []string{"Calendars"}
	httpx.Register(a, huma.Operation{OperationID: "list-calendars", Method: http.MethodGet, Path: "/api/v1/calendars",
		Summary: "Business calendars, by name", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*items[Calendar], error) {
			cs, err := s.List(ctx)
			if err != nil {
				return nil, err
			}
			out := &items[Calendar]{}
			out.Body.Items = cs
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-calendar", Method: http.MethodPost, Path: "/api/v1/calendars",
		Summary: "Add a business calendar", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Establish Service Level Management (SLM1): you need R or A for it. Windows are in local time of " +
			"timeZone (an IANA name); a window's end must be after its start, or, with endsNextDay, on the next day no later than " +
			"its start; windows must not overlap (an overnight window's spill past midnight included). Bad input is 422 naming " +
			"the field, such as body.windows[1].end; a name in use is 409."},
		httpx.Authenticated, func(ctx context.Context, in *calendarCreateIn) (*httpx.Created[Calendar], error) {
			c, err := s.Create(ctx, in.Body.calendar())
			if err != nil {
				return nil, err
			}
			return &httpx.Created[Calendar]{ETag: httpx.ETag(c.Version), Location: "/api/v1/calendars/" + objectID(c.ID), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-calendar", Method: http.MethodGet, Path: "/api/v1/calendars/{id}",
		Summary: "A business calendar", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*httpx.One[Calendar], error) {
			c, err := s.Get(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Calendar]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-calendar", Method: http.MethodPut, Path: "/api/v1/calendars/{id}",
		Summary: "Replace a business calendar", Tags: tag,
		Description: "Performs SLM1. Send If-Match with the ETag you read (428 without, 412 when stale). The clocks of the " +
			"agreements on the calendar are recomputed."},
		httpx.Authenticated, func(ctx context.Context, in *calendarPutIn) (*httpx.One[Calendar], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			c, err := s.Update(ctx, in.ID, v, in.Body.calendar())
			if err != nil {
				return nil, err
			}
			return &httpx.One[Calendar]{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-calendar", Method: http.MethodDelete, Path: "/api/v1/calendars/{id}",
		Summary: "Delete a business calendar", Tags: tag, DefaultStatus: http.StatusNoContent,
		Description: "Performs SLM1. Send If-Match. A calendar an agreement uses, and the built-in 24x7 calendar, are 409."},
		httpx.Authenticated, func(ctx context.Context, in *calendarDeleteIn) (*struct{}, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			return nil, s.Delete(ctx, in.ID, v)
		})
	httpx.Register(a, huma.Operation{OperationID: "preview-calendar", Method: http.MethodGet, Path: "/api/v1/calendars/{id}/preview",
		Summary: "A week of a business calendar: per local day the working spans and hours", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *previewSavedIn) (*plain[WeekPreview], error) {
			week, err := weekOf(in.Week, s.Now())
			if err != nil {
				return nil, err
			}
			wp, err := s.PreviewSaved(ctx, in.ID, week)
			if err != nil {
				return nil, err
			}
			return &plain[WeekPreview]{Body: wp}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "preview-unsaved-calendar", Method: http.MethodPost, Path: "/api/v1/calendars/preview",
		Summary: "A week of an unsaved business calendar", Tags: tag,
		Description: "Validates the calendar as create does (422 naming the field) and lays out the week; nothing is saved."},
		httpx.Authenticated, func(ctx context.Context, in *previewUnsavedIn) (*plain[WeekPreview], error) {
			week, err := weekOf(in.Week, s.Now())
			if err != nil {
				return nil, err
			}
			wp, err := s.Preview(in.Body.calendar(), week)
			if err != nil {
				return nil, err
			}
			return &plain[WeekPreview]{Body: wp}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-calendar-presets", Method: http.MethodGet, Path: "/api/v1/calendar-presets",
		Summary: "Ready-made working windows and holiday lists to start a calendar from", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*plain[PresetList], error) {
			return &plain[PresetList]{Body: PresetList{Presets: Presets(), Holidays: HolidayPresets()}}, nil
		})
}

// PresetList is the reply of GET /api/v1/calendar-presets.
type PresetList struct {
	Presets  []Preset        `json:"presets"`
	Holidays []HolidayPreset `json:"holidays"`
}

// WindowInput is a working window in a request.
type WindowInput struct {
	Day         string `json:"day" maxLength:"3" doc:"mon, tue, wed, thu, fri, sat or sun: the day the window starts."`
	Start       string `json:"start" maxLength:"5" doc:"Local start time, HH:MM."`
	End         string `json:"end" maxLength:"5" doc:"Local end time, HH:MM; 24:00 is the end of the day."`
	EndsNextDay bool   `json:"endsNextDay,omitempty" doc:"The end falls on the next day (an overnight window)."`
}

// HolidayInput is a holiday in a request.
type HolidayInput struct {
	Date string `json:"date" maxLength:"10" doc:"Local date, YYYY-MM-DD."`
	Name string `json:"name,omitempty" maxLength:"200"`
}

// CalendarInput is a calendar's fields in a create, replace or preview request.
type CalendarInput struct {
	Name        string         `json:"name" maxLength:"100"`
	Description string         `json:"description,omitempty" maxLength:"2000"`
	TimeZone    string         `json:"timeZone" maxLength:"64" doc:"An IANA time zone, such as Europe/Brussels or UTC."`
	Windows     []WindowInput  `json:"windows" maxItems:"100"`
	Holidays    []HolidayInput `json:"holidays,omitempty" maxItems:"2000"`
}

func (b CalendarInput) calendar() Calendar {
	c := Calendar{Name: b.Name, Description: b.Description, TimeZone: b.TimeZone,
		Windows: make([]Window, 0, len(b.Windows)), Holidays: make([]Holiday, 0, len(b.Holidays))}
	for _, w := range b.Windows {
		c.Windows = append(c.Windows, Window(w))
	}
	for _, h := range b.Holidays {
		c.Holidays = append(c.Holidays, Holiday(h))
	}
	return c
}

// IDPath is the {id} of a calendar's path.
type IDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"The calendar's id."`
}

type calendarCreateIn struct {
	Body CalendarInput
}

type calendarPutIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    CalendarInput
}

type calendarDeleteIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

type previewSavedIn struct {
	IDPath
	Week string `query:"week" maxLength:"10" doc:"A date (YYYY-MM-DD) in the week to lay out; its Monday starts it. This week when absent."`
}

type previewUnsavedIn struct {
	Week string `query:"week" maxLength:"10" doc:"A date (YYYY-MM-DD) in the week to lay out; its Monday starts it. This week when absent."`
	Body CalendarInput
}

// weekOf reads the week parameter, defaulting to the week of now.
func weekOf(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return MondayOf(now), nil
	}
	d, ok := parseDate(v)
	if !ok {
		return time.Time{}, errs.Field("query.week", "a date YYYY-MM-DD", v)
	}
	return MondayOf(d), nil
}

type items[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

type plain[T any] struct {
	Body T
}
