package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/jobs"
	"steward/internal/platform/mail"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// TestConcurrentConsumersQueueOnce: two nodes on PostgreSQL consuming at the
// same time while events are written read each event once and queue each
// notification once.
func TestConcurrentConsumersQueueOnce(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t, db.Postgres)
	open := func() *db.DB {
		d, err := db.Open(context.Background(), db.Config{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	d1, d2 := open(), open()
	e := newEnv(t, d1)
	sink := newSMTPSink(t)
	m1 := e.mailer(config(sink, nil), nil, "UNCLASSIFIED")
	m2, err := mail.New(mail.Deps{DB: d2, Config: config(sink, nil), Records: e.records, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	alice := e.user("alice", "alice@example.com", false)
	bob := e.user("bob", "bob@example.com", false)
	dave := e.user("dave", "dave@example.com", false)
	team := e.team("Desk", bob, dave)

	const writers, perWriter = 4, 10
	ctx, cancel := context.WithCancel(context.Background())
	var read [2]int
	var consumers sync.WaitGroup
	for i, m := range []*mail.Mailer{m1, m2} {
		consumers.Go(func() {
			for ctx.Err() == nil {
				n, _, err := m.Queue(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				read[i] += n
			}
		})
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if _, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: fmt.Sprintf("w%d-%d", w, i), TeamID: team}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	cancel()
	consumers.Wait()
	for _, m := range []*mail.Mailer{m1, m2} {
		for {
			n, _, err := m.Queue(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
	var events, messages, distinct int
	if err := d1.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox_events WHERE type = 'record.created'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := d1.QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT subject || to_addr) FROM mail_messages`).Scan(&messages, &distinct); err != nil {
		t.Fatal(err)
	}
	if events != writers*perWriter || messages != 2*events || distinct != messages {
		t.Fatalf("events %d, messages %d (distinct %d), want %d each to bob and dave", events, messages, distinct, events)
	}
	var total int
	if err := d1.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox_events`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if read[0]+read[1] != total || read[0] == 0 && read[1] == 0 {
		t.Fatalf("the consumers read %d + %d events of %d: an event was read twice or not at all", read[0], read[1], total)
	}
}

// TestLateCommitIsNotLost: on PostgreSQL an event whose transaction drew its id
// first but commits after a later one is still mailed.
func TestLateCommitIsNotLost(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.Postgres)
	ctx := context.Background()
	e := newEnv(t, d)
	sink := newSMTPSink(t)
	m := e.mailer(config(sink, nil), nil, "UNCLASSIFIED")
	alice := e.user("alice", "alice@example.com", false)
	bob := e.user("bob", "bob@example.com", false)
	r, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Slow", AssigneeID: bob.id})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, m)

	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		actx := as(bob)
		done <- d.InTx(actx, func(tx *db.Tx) error {
			if err := e.events.Emit(actx, tx, outbox.Event{Type: mail.EventMajorUpdate, Subject: "record/" + r.Number,
				Data: map[string]any{"text": "late"}}); err != nil {
				return err
			}
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	if _, err := e.records.AddJournal(as(bob), r.Number, record.Comment, "early"); err != nil {
		t.Fatal(err)
	}
	drain(t, m) // reads the comment; the update's id is missing yet
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	drain(t, m)
	got := delivered(sink)
	for _, w := range []string{"alice@example.com | [TKT0000001] New comment: Slow", "alice@example.com | [TKT0000001] Major incident update: Slow"} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in %v", w, got)
		}
	}
	var gaps int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_event_gaps`).Scan(&gaps); err != nil || gaps != 0 {
		t.Fatalf("gaps left: %d %v", gaps, err)
	}
}

// TestRunnerMailsAfterCommit: registered on the job runner, the consumer and
// the sender deliver a notification shortly after the event commits.
func TestRunnerMailsAfterCommit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.System{}
		var m *mail.Mailer
		events := outbox.New(clk, func() { m.Notify() })
		records := record.New(record.Deps{DB: d, Guard: &testGuard{}, Trail: audit.NewTrail(clk), Events: events, Clock: clk})
		if err := records.Register(ticketType()); err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, d: d, records: records}
		sink := newSMTPSink(t)
		var err error
		if m, err = mail.New(mail.Deps{DB: d, Config: config(sink, nil), Records: records, Clock: clk}); err != nil {
			t.Fatal(err)
		}
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		r := jobs.New(d, clk, slog.New(slog.DiscardHandler), jobs.Options{NodeID: "n1", Poll: time.Hour})
		m.Register(r)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = r.Run(ctx) })
		defer wg.Wait()
		defer cancel()
		time.Sleep(100 * time.Millisecond)
		if _, err := records.Create(as(alice), "ticket", record.NewRecord{Title: "Keyboard", AssigneeID: bob.id}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(sink.messages()) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := delivered(sink); !slices.Equal(got, []string{"bob@example.com | [TKT0000001] Opened: Keyboard"}) {
			t.Fatalf("delivered %v", got)
		}
	})
}
