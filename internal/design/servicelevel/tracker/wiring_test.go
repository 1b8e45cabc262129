package tracker_test

import (
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/calendar"
)

// The providers the application wires in satisfy the tracker's seams.
var (
	_ tracker.TargetSource    = (*servicelevel.Service)(nil)
	_ tracker.ScheduleSource  = tracker.ScheduleFunc[*calendar.Schedule]((*calendar.Service)(nil).Schedule)
	_ servicelevel.Recomputer = (*tracker.Service)(nil)
	_ func(*calendar.Service) = func(c *calendar.Service) { c.OnChange((*tracker.Service)(nil).CalendarChanged) }
)
