package sla

import (
	"testing"
	"time"
)

// benchTimeline is an incident with ten snapshots over two business days.
func benchTimeline() Timeline {
	return history(cat(created("03-09 10:00"), ev("03-09 10:20", "record.assign", "teamId", 3, "assigneeId", 9),
		to("03-09 10:30", "in_progress"), held("03-09 11:00", "awaiting_caller"), resumed("03-09 14:00"),
		ev("03-09 15:00", "record.update", "priority", 1), held("03-10 10:00", "awaiting_supplier"), resumed("03-10 11:30"),
		ev("03-10 12:00", "record.assign", "teamId", 4, "assigneeId", 11),
		to("03-10 16:00", "resolved"))...)
}

func BenchmarkCompute(b *testing.B) {
	tl := benchTimeline()
	if len(tl.Snapshots) != 10 {
		b.Fatalf("%d snapshots", len(tl.Snapshots))
	}
	target := Target{ID: 1, Kind: KindResolution, Duration: 16 * time.Hour, Warnings: []int{50, 75, 90}}
	cs := []Correction{{From: ms("03-09 15:30"), To: ms("03-09 16:00")}}
	for _, bc := range []struct {
		name string
		s    Schedule
		now  time.Time
	}{{"24x7/stopped", always{}, at("03-11 09:00")}, {"business/stopped", weekdays{}, at("03-11 09:00")},
		{"business/running", weekdays{}, at("03-10 14:00")}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compute(tl, target, bc.s, cs, bc.now)
			}
		})
	}
}

func BenchmarkEntryFromAudit(b *testing.B) {
	js := []byte(`[{"field":"type","new":"incident"},{"field":"number","new":"INC9"},{"field":"title","new":"Mail is down for the whole floor"},` +
		`{"field":"description","new":"Since this morning nobody on the third floor can send or receive mail."},` +
		`{"field":"state","new":"new"},{"field":"priority","new":2},{"field":"teamId","new":0},{"field":"serviceId","new":12},` +
		`{"field":"requesterId","new":44},{"field":"marking","new":"UNCLASSIFIED"},{"field":"category","new":"network"}]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EntryFromAudit(1, 1, "record.create", js); err != nil {
			b.Fatal(err)
		}
	}
}
