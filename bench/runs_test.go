package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunLoadWithoutWarmupRecordsEveryRun checks that a batch scenario's
// runs (no warm-up, a count) are exactly the operations performed: none runs
// unrecorded before the measured part.
func TestRunLoadWithoutWarmupRecordsEveryRun(t *testing.T) {
	t.Parallel()
	for _, runs := range []int64{1, 2, 5} {
		var calls atomic.Int64
		op := func(ctx context.Context, w *Worker) error {
			calls.Add(1)
			time.Sleep(time.Millisecond)
			return nil
		}
		st := runLoad(context.Background(), Drive{Concurrency: 1, Count: runs}, 1, op)
		if st.Ops != runs || calls.Load() != runs {
			t.Errorf("runs %d: %d recorded, %d performed", runs, st.Ops, calls.Load())
		}
	}
}

// TestNotesAreTakenOnce checks that a scenario's notes go to its result only.
func TestNotesAreTakenOnce(t *testing.T) {
	t.Parallel()
	env := &Env{}
	env.Note("records_per_sec", 1234)
	if n := env.takeNotes(); n["records_per_sec"] != 1234 {
		t.Errorf("notes %v", n)
	}
	if n := env.takeNotes(); n != nil {
		t.Errorf("notes taken twice: %v", n)
	}
}
