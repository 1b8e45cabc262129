package sla

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestWeekdaysSchedule checks the test schedule itself against a minute walk.
func TestWeekdaysSchedule(t *testing.T) {
	t.Parallel()
	var w weekdays
	fri := time.Date(2026, 3, 13, 16, 0, 0, 0, time.UTC)
	if got := w.Working(fri, time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)); got != 2*time.Hour {
		t.Fatalf("Fri 16:00 → Mon 10:00 = %v, want 2h", got)
	}
	if got := w.Add(fri, time.Hour); !got.Equal(time.Date(2026, 3, 13, 17, 0, 0, 0, time.UTC)) {
		t.Fatalf("Add(Fri 16:00, 1h) = %v, want Fri 17:00", got)
	}
	if got := w.Add(fri, 61*time.Minute); !got.Equal(time.Date(2026, 3, 16, 9, 1, 0, 0, time.UTC)) {
		t.Fatalf("Add(Fri 16:00, 61m) = %v, want Mon 09:01", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		a := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(20*24*60)) * time.Minute)
		b := a.Add(time.Duration(rng.IntN(5*24*60)) * time.Minute)
		var walk time.Duration
		for m := a; m.Before(b); m = m.Add(time.Minute) {
			if w.IsWorking(m) {
				walk += time.Minute
			}
		}
		if got := w.Working(a, b); got != walk {
			t.Fatalf("Working(%v, %v) = %v, minute walk %v", a, b, got, walk)
		}
		d := time.Duration(rng.IntN(3000)) * time.Minute
		if got := w.Working(a, w.Add(a, d)); got != d {
			t.Fatalf("Working(a, Add(a, %v)) = %v", d, got)
		}
	}
}
