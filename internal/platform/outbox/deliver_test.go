package outbox_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/jobs"
	"steward/internal/platform/outbox"
)

// receiver is a webhook endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []request
	notify chan struct{}
}

type request struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusNoContent, notify: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{req.Header.Clone(), body})
		status := r.status
		r.mu.Unlock()
		if status >= 300 {
			http.Error(w, "receiver says no", status)
		} else {
			w.WriteHeader(status)
		}
		r.notify <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setStatus(s int) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// verify checks a Standard Webhooks signature, written independently of the package.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if v, s, _ := strings.Cut(sig, ","); v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid v1 signature")
}

func emit(t *testing.T, d *db.DB, ob *outbox.Outbox, ev outbox.Event) {
	t.Helper()
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *db.Tx) error { return ob.Emit(ctx, tx, ev) }); err != nil {
		t.Fatal(err)
	}
}

func deliveries(t *testing.T, wh *outbox.Webhooks, hookID int64) []outbox.Delivery {
	t.Helper()
	ds, err := wh.Deliveries(context.Background(), hookID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDeliveryEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		wh := newWebhooks(d, clk)
		wh.SetSource("https://steward.example.com")
		ob := outbox.New(clk, nil)
		rcv := newReceiver(t)

		hook, secret, err := wh.Create(ctx, outbox.WebhookInput{Name: "teams", URL: rcv.URL + "/hook", EventTypes: []string{"team.*"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := wh.Create(ctx, outbox.WebhookInput{Name: "off", URL: rcv.URL + "/off", Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		emit(t, d, ob, outbox.Event{Type: "team.created", Subject: "team/42", Data: map[string]any{"name": "Network"}})
		emit(t, d, ob, outbox.Event{Type: "incident.created", Subject: "incident/1"})
		// An event whose transaction rolls back is never delivered.
		rollback := errors.New("rollback")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if err := ob.Emit(ctx, tx, outbox.Event{Type: "team.deleted", Subject: "team/43"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}

		if s, err := wh.Stats(ctx); err != nil || s.Undispatched != 2 {
			t.Fatalf("stats before dispatch: %+v %v", s, err)
		}
		if n, err := wh.Dispatch(ctx); err != nil || n != 2 {
			t.Fatalf("dispatch: n=%d err=%v", n, err)
		}
		if n, err := wh.Dispatch(ctx); err != nil || n != 0 {
			t.Fatalf("second dispatch: n=%d err=%v", n, err)
		}
		clk.Advance(3 * time.Second)
		if s, err := wh.Stats(ctx); err != nil || s.Undispatched != 0 || s.Pending != 1 || s.PendingAge != 3*time.Second {
			t.Fatalf("stats after dispatch: %+v %v", s, err)
		}
		if n, err := wh.Deliver(ctx); err != nil || n != 1 {
			t.Fatalf("deliver: n=%d err=%v", n, err)
		}
		if n, err := wh.Deliver(ctx); err != nil || n != 0 {
			t.Fatalf("second deliver: n=%d err=%v", n, err)
		}

		got := rcv.requests()
		if len(got) != 1 {
			t.Fatalf("receiver got %d requests, want 1", len(got))
		}
		req := got[0]
		if ct := req.header.Get("Content-Type"); ct != "application/cloudevents+json" {
			t.Errorf("content type %q", ct)
		}
		if err := verify(secret, req.header, req.body); err != nil {
			t.Errorf("signature: %v (headers %v)", err, req.header)
		}
		if ts := req.header.Get("webhook-timestamp"); ts != strconv.FormatInt(clk.Now().Unix(), 10) {
			t.Errorf("webhook-timestamp %q", ts)
		}
		var ce map[string]any
		if err := json.Unmarshal(req.body, &ce); err != nil {
			t.Fatal(err)
		}
		ds := deliveries(t, wh, hook.ID)
		wantCE := map[string]any{
			"specversion": "1.0", "id": strconv.FormatInt(ds[0].EventID, 10), "source": "https://steward.example.com",
			"type": "steward.team.created", "subject": "team/42", "time": "2026-03-01T12:00:00Z",
			"datacontenttype": "application/json", "data": map[string]any{"name": "Network"},
		}
		if fmt.Sprint(ce) != fmt.Sprint(wantCE) {
			t.Errorf("cloud event %v\nwant        %v", ce, wantCE)
		}
		if req.header.Get("webhook-id") != wantCE["id"] {
			t.Errorf("webhook-id %q, want the event id", req.header.Get("webhook-id"))
		}
		if len(ds) != 1 || ds[0].Status != "delivered" || ds[0].Attempts != 1 || ds[0].LastStatus != 204 ||
			ds[0].DeliveredAt == nil || ds[0].EventType != "team.created" {
			t.Fatalf("deliveries %+v", ds)
		}
	})
}

func TestFailingReceiverRetriesThenDeadThenReplay(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		wh := newWebhooks(d, clk)
		ob := outbox.New(clk, nil)
		rcv := newReceiver(t)
		rcv.setStatus(http.StatusInternalServerError)

		hook, secret, err := wh.Create(ctx, outbox.WebhookInput{Name: "flaky", URL: rcv.URL, MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, ob, outbox.Event{Type: "change.approved", Subject: "change/7"})
		if _, err := wh.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		// Expected backoff after attempt n: 10s·2^(n-1), plus up to 10% jitter.
		for attempt, base := range []time.Duration{10 * time.Second, 20 * time.Second} {
			sentAt := clk.Now()
			if n, err := wh.Deliver(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: n=%d err=%v", attempt+1, n, err)
			}
			ds := deliveries(t, wh, hook.ID)
			wait := ds[0].NextAttemptAt.Sub(sentAt)
			if ds[0].Status != "pending" || ds[0].Attempts != attempt+1 || ds[0].LastStatus != 500 ||
				!strings.Contains(ds[0].LastError, "HTTP 500: receiver says no") || wait < base || wait > base+base/10 {
				t.Fatalf("after attempt %d: %+v (wait %v)", attempt+1, ds[0], wait)
			}
			if n, err := wh.Deliver(ctx); err != nil || n != 0 {
				t.Fatalf("delivered before backoff elapsed: n=%d err=%v", n, err)
			}
			clk.Advance(base + base/10 + time.Millisecond)
		}
		if n, err := wh.Deliver(ctx); err != nil || n != 1 {
			t.Fatalf("last attempt: n=%d err=%v", n, err)
		}
		dead, err := wh.DeadLetters(ctx, 10)
		if err != nil || len(dead) != 1 || dead[0].Status != "dead" || dead[0].Attempts != 3 {
			t.Fatalf("dead letters: %+v %v", dead, err)
		}
		clk.Advance(2 * time.Hour)
		if n, err := wh.Deliver(ctx); err != nil || n != 0 {
			t.Fatalf("a dead delivery was retried: n=%d err=%v", n, err)
		}
		if s, err := wh.Stats(ctx); err != nil || s.Dead != 1 || s.Pending != 0 {
			t.Fatalf("stats: %+v %v", s, err)
		}

		rcv.setStatus(http.StatusOK)
		if err := wh.Replay(ctx, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := wh.Deliver(ctx); err != nil || n != 1 {
			t.Fatalf("deliver replay: n=%d err=%v", n, err)
		}
		got := rcv.requests()
		if len(got) != 4 {
			t.Fatalf("receiver got %d requests, want 4", len(got))
		}
		for i, r := range got {
			if err := verify(secret, r.header, r.body); err != nil || r.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
				t.Errorf("request %d: signature %v, webhook-id %q", i, err, r.header.Get("webhook-id"))
			}
		}
		ds := deliveries(t, wh, hook.ID)
		if ds[0].Status != "delivered" || ds[0].Attempts != 1 {
			t.Fatalf("after replay: %+v", ds[0])
		}
		if err := wh.Replay(ctx, ds[0].ID); !errs.Is(err, errs.Conflict) {
			t.Fatalf("replay of a delivered delivery: %v", err)
		}
		if err := wh.Replay(ctx, ds[0].ID+100); !errs.Is(err, errs.NotFound) {
			t.Fatalf("replay of a missing delivery: %v", err)
		}
		if got := auditActions(t, d); len(got) != 2 || got[1] != "webhook.replay" {
			t.Fatalf("audit actions %v", got)
		}
	})
}

func TestDeactivatedWebhookDeliveriesGoDead(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		wh := newWebhooks(d, clk)
		ob := outbox.New(clk, nil)
		rcv := newReceiver(t)
		hook, _, err := wh.Create(ctx, outbox.WebhookInput{Name: "a", URL: rcv.URL})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, ob, outbox.Event{Type: "x.y"})
		if _, err := wh.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		hook, err = wh.Update(ctx, hook.ID, hook.Version, outbox.WebhookUpdate{Active: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := wh.Deliver(ctx); err != nil || n != 1 {
			t.Fatalf("deliver: n=%d err=%v", n, err)
		}
		ds := deliveries(t, wh, hook.ID)
		if len(rcv.requests()) != 0 || ds[0].Status != "dead" || ds[0].Attempts != 0 {
			t.Fatalf("inactive webhook: %d requests, %+v", len(rcv.requests()), ds[0])
		}
		if err := wh.Replay(ctx, ds[0].ID); !errs.Is(err, errs.Conflict) {
			t.Fatalf("replay to an inactive webhook: %v", err)
		}
		if _, err := wh.Update(ctx, hook.ID, hook.Version, outbox.WebhookUpdate{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if err := wh.Replay(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := wh.Deliver(ctx); err != nil || n != 1 || len(rcv.requests()) != 1 {
			t.Fatalf("deliver after replay: n=%d err=%v requests=%d", n, err, len(rcv.requests()))
		}
	})
}

func TestRunnerDeliversOnCommit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		clk := clock.System{}
		wh := newWebhooks(d, clk)
		rcv := newReceiver(t)
		if _, _, err := wh.Create(ctx, outbox.WebhookInput{Name: "live", URL: rcv.URL}); err != nil {
			t.Fatal(err)
		}
		// With an hour between polls, only the after-commit notification can start delivery promptly.
		r := jobs.New(d, clk, slog.New(slog.DiscardHandler), jobs.Options{NodeID: "n1", Poll: time.Hour})
		wh.Register(r)
		ob := outbox.New(clk, wh.Notify)
		var wg sync.WaitGroup
		wg.Go(func() { _ = r.Run(ctx) })
		defer wg.Wait()
		defer cancel()

		time.Sleep(100 * time.Millisecond) // let the first scheduled slots pass
		for i := range 3 {
			emit(t, d, ob, outbox.Event{Type: "team.created", Subject: fmt.Sprintf("team/%d", i)})
			select {
			case <-rcv.notify:
			case <-time.After(10 * time.Second):
				t.Fatalf("event %d not delivered", i)
			}
		}
	})
}
