package outbox_test

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testKey = bytes.Repeat([]byte{7}, outbox.KeySize)

func newWebhooks(d *db.DB, clk clock.Clock) *outbox.Webhooks {
	return outbox.NewWebhooks(d, audit.NewTrail(clk), clk, testKey, nil, slog.New(slog.DiscardHandler))
}

func ptr[T any](v T) *T { return &v }

func auditActions(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT action FROM audit_log WHERE object_type = 'webhook' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		wh := newWebhooks(d, clk)

		hook, secret, err := wh.Create(ctx, outbox.WebhookInput{Name: " ops ", URL: "https://hooks.example.com/in"})
		if err != nil {
			t.Fatal(err)
		}
		want := outbox.Webhook{ID: hook.ID, Name: "ops", URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
			Active: true, MaxAttempts: 8, CreatedAt: t0, UpdatedAt: t0, Version: 1}
		if !reflect.DeepEqual(hook, want) {
			t.Fatalf("created %+v\nwant    %+v", hook, want)
		}
		if got, err := wh.Get(ctx, hook.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("get: %+v, %v", got, err)
		}
		if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+44 {
			t.Fatalf("secret %q is not whsec_ + base64 of 32 bytes", secret)
		}

		// The secret is stored encrypted, not in plaintext.
		var stored string
		if err := d.QueryRowContext(ctx, `SELECT secret_enc FROM webhooks WHERE id = ?`, hook.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, strings.TrimPrefix(secret, "whsec_")) || strings.Contains(stored, secret) {
			t.Fatalf("secret stored in plaintext: %q", stored)
		}

		if _, _, err := wh.Create(ctx, outbox.WebhookInput{Name: "ops", URL: "https://other.example.com/"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate name: %v", err)
		}

		clk.Advance(time.Minute)
		updated, err := wh.Update(ctx, hook.ID, 1, outbox.WebhookUpdate{
			Name: ptr("ops-team"), EventTypes: ptr([]string{"team.*", "incident.resolved"}), Active: ptr(false), MaxAttempts: ptr(3)})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Version != 2 || updated.Name != "ops-team" || updated.Active || updated.MaxAttempts != 3 ||
			!reflect.DeepEqual(updated.EventTypes, []string{"team.*", "incident.resolved"}) || !updated.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("updated %+v", updated)
		}
		if got, _ := wh.Get(ctx, hook.ID); !reflect.DeepEqual(got, updated) {
			t.Fatalf("stored %+v\nreturned %+v", got, updated)
		}
		list, err := wh.List(ctx)
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], updated) {
			t.Fatalf("list: %+v, %v", list, err)
		}

		errCases := []struct {
			name string
			err  func() error
			kind errs.Kind
		}{
			{"update stale version", func() error {
				_, err := wh.Update(ctx, hook.ID, 1, outbox.WebhookUpdate{Name: ptr("x")})
				return err
			}, errs.PreconditionFailed},
			{"update missing", func() error {
				_, err := wh.Update(ctx, hook.ID+100, 1, outbox.WebhookUpdate{Name: ptr("x")})
				return err
			}, errs.NotFound},
			{"update invalid", func() error {
				_, err := wh.Update(ctx, hook.ID, 2, outbox.WebhookUpdate{URL: ptr("ftp://x")})
				return err
			}, errs.Invalid},
			{"delete stale version", func() error { return wh.Delete(ctx, hook.ID, 1) }, errs.PreconditionFailed},
			{"delete missing", func() error { return wh.Delete(ctx, hook.ID+100, 1) }, errs.NotFound},
			{"get missing", func() error {
				_, err := wh.Get(ctx, hook.ID+100)
				return err
			}, errs.NotFound},
		}
		for _, c := range errCases {
			if err := c.err(); !errs.Is(err, c.kind) {
				t.Errorf("%s: got %v, want kind %v", c.name, err, c.kind)
			}
		}

		rotated, secret2, err := wh.RotateSecret(ctx, hook.ID, 2)
		if err != nil || secret2 == secret || rotated.Version != 3 {
			t.Fatalf("rotate: %+v %v", rotated, err)
		}
		if err := wh.Delete(ctx, hook.ID, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := wh.Get(ctx, hook.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("get after delete: %v", err)
		}

		wantActions := []string{"webhook.create", "webhook.update", "webhook.rotate_secret", "webhook.delete"}
		if got := auditActions(t, d); !reflect.DeepEqual(got, wantActions) {
			t.Fatalf("audit actions %v, want %v", got, wantActions)
		}
		var events int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox_events`).Scan(&events); err != nil || events != 0 {
			t.Fatalf("webhook mutations emitted %d events (%v); they must emit none", events, err)
		}
		var changes string
		if err := d.QueryRowContext(ctx, `SELECT changes FROM audit_log WHERE action = 'webhook.rotate_secret'`).Scan(&changes); err != nil ||
			strings.Contains(changes, strings.TrimPrefix(secret2, "whsec_")) {
			t.Fatalf("rotate audit changes %q leak the secret (%v)", changes, err)
		}
	})
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   outbox.WebhookInput
		want []string // field locations
	}{
		{"valid", outbox.WebhookInput{Name: "a", URL: "http://localhost:9000/x", EventTypes: []string{"team.created", "team.*", "*"}}, nil},
		{"empty name", outbox.WebhookInput{Name: "  ", URL: "https://x.example/"}, []string{"body.name"}},
		{"long name", outbox.WebhookInput{Name: strings.Repeat("n", 101), URL: "https://x.example/"}, []string{"body.name"}},
		{"relative url", outbox.WebhookInput{Name: "a", URL: "/hook"}, []string{"body.url"}},
		{"ftp url", outbox.WebhookInput{Name: "a", URL: "ftp://x.example/"}, []string{"body.url"}},
		{"no host", outbox.WebhookInput{Name: "a", URL: "https:///path"}, []string{"body.url"}},
		{"credentials", outbox.WebhookInput{Name: "a", URL: "https://u:p@x.example/"}, []string{"body.url"}},
		{"bad event types", outbox.WebhookInput{Name: "a", URL: "https://x.example/", EventTypes: []string{"team.", "team*", "a b", "ok.type"}},
			[]string{"body.eventTypes[0]", "body.eventTypes[1]", "body.eventTypes[2]"}},
		{"attempts", outbox.WebhookInput{Name: "a", URL: "https://x.example/", MaxAttempts: 51}, []string{"body.maxAttempts"}},
		{"several", outbox.WebhookInput{URL: "nope", MaxAttempts: -1}, []string{"body.name", "body.url", "body.maxAttempts"}},
	}
	d := dbtest.Open(t, db.SQLite)
	wh := newWebhooks(d, clock.NewFixed(t0))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if c.want == nil {
				in.Name += string(rune('a' + i))
			}
			_, _, err := wh.Create(context.Background(), in)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.Invalid {
				t.Fatalf("got %v, want an invalid error", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Location)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("fields %v, want %v", got, c.want)
			}
		})
	}
}

func TestWrongKeySizeFailsSafely(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite)
	clk := clock.NewFixed(t0)
	wh := outbox.NewWebhooks(d, audit.NewTrail(clk), clk, []byte("short"), nil, nil)
	if _, _, err := wh.Create(context.Background(), outbox.WebhookInput{Name: "a", URL: "https://x.example/"}); err == nil {
		t.Fatal("create with a short key succeeded")
	}
	if _, err := wh.Deliver(context.Background()); err == nil {
		t.Fatal("deliver with a short key succeeded")
	}
}
