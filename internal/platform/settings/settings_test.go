package settings_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/settings"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newStore(d *db.DB, ttl time.Duration) *settings.Store {
	clk := clock.NewFixed(t0)
	return settings.NewStore(d, audit.NewTrail(clk), clk, ttl)
}

func secret() settings.Presentation {
	p := settings.Defaults()
	p.BannerText = "SECRET"
	p.BannerBackground = "#c8102e"
	return p
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	p := settings.Defaults()
	if p.BannerText != "UNCLASSIFIED" || p.BannerBackground != "#007a33" || p.BannerForeground != "#ffffff" ||
		p.Notice != settings.DefaultNotice || p.NoticeTitle == "" || p.Version != 0 {
		t.Fatalf("defaults = %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		got, err := newStore(d, 0).Presentation(context.Background())
		if err != nil || got != settings.Defaults() {
			t.Fatalf("fresh database: %+v, %v; want the defaults", got, err)
		}
	})
}

func TestValidationNamesTheField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(p *settings.Presentation)
		fields []string
	}{
		{"empty banner", func(p *settings.Presentation) { p.BannerText = "  " }, []string{"body.bannerText"}},
		{"long banner", func(p *settings.Presentation) { p.BannerText = strings.Repeat("S", 201) }, []string{"body.bannerText"}},
		{"named colour", func(p *settings.Presentation) { p.BannerBackground = "red" }, []string{"body.bannerBackground"}},
		{"short colour", func(p *settings.Presentation) { p.BannerForeground = "#fff" }, []string{"body.bannerForeground"}},
		{"css injection", func(p *settings.Presentation) { p.BannerForeground = "#ffffff;x" }, []string{"body.bannerForeground"}},
		{"empty notice", func(p *settings.Presentation) { p.Notice = "\n\t" }, []string{"body.notice"}},
		{"several at once", func(p *settings.Presentation) { p.BannerText, p.BannerBackground = "", "" },
			[]string{"body.bannerText", "body.bannerBackground"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := settings.Defaults()
			c.change(&p)
			e, ok := errs.As(p.Validate())
			if !ok || e.Kind != errs.Invalid || len(e.Fields) != len(c.fields) {
				t.Fatalf("Validate = %+v, want Invalid naming %v", e, c.fields)
			}
			for i, f := range c.fields {
				if e.Fields[i].Location != f || e.Fields[i].Message == "" {
					t.Errorf("field %d = %+v, want %s with a message", i, e.Fields[i], f)
				}
			}
		})
	}
	p := settings.Defaults()
	p.BannerText = "  SECRET//NOFORN  "
	if err := p.Validate(); err != nil || p.BannerText != "SECRET//NOFORN" {
		t.Fatalf("Validate trims: %q, %v", p.BannerText, err)
	}
}

func TestSetPresentation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := audit.WithActor(context.Background(), audit.Actor{Type: "user", ID: 1, Name: "admin"})
		s := newStore(d, time.Hour)

		bad := secret()
		bad.BannerBackground = "crimson"
		if _, err := s.SetPresentation(ctx, 0, bad); !errs.Is(err, errs.Invalid) {
			t.Fatalf("invalid save: %v", err)
		}

		out, err := s.SetPresentation(ctx, 0, secret())
		if err != nil || out.Version != 1 || out.BannerText != "SECRET" {
			t.Fatalf("first save: %+v, %v", out, err)
		}
		// Another node (a store with an empty cache) reads the saved row.
		got, err := newStore(d, time.Hour).Presentation(ctx)
		if err != nil || got != out {
			t.Fatalf("read back: %+v, %v; want %+v", got, err, out)
		}

		for _, stale := range []int64{0, 2} {
			if _, err := s.SetPresentation(ctx, stale, settings.Defaults()); !errs.Is(err, errs.PreconditionFailed) {
				t.Fatalf("save with version %d while at 1: %v, want PreconditionFailed", stale, err)
			}
		}
		p := out
		p.BannerText = "TOP SECRET"
		out2, err := s.SetPresentation(ctx, 1, p)
		if err != nil || out2.Version != 2 {
			t.Fatalf("second save: %+v, %v", out2, err)
		}
		if got, _ := s.Presentation(ctx); got != out2 {
			t.Fatalf("own cache after save = %+v, want %+v", got, out2)
		}

		items, total, err := audit.List(ctx, d, audit.Filter{Action: "settings.update"})
		if err != nil || total != 2 {
			t.Fatalf("audit: %d rows, %v; want one per successful save", total, err)
		}
		last := items[0]
		if last.ObjectType != "settings" || last.ObjectID != "presentation" || last.ActorName != "admin" ||
			len(last.ChangeList) != 1 || last.ChangeList[0].Field != "bannerText" ||
			last.ChangeList[0].Old != "SECRET" || last.ChangeList[0].New != "TOP SECRET" {
			t.Fatalf("audit row = %+v changes %+v", last.Row, last.ChangeList)
		}
		first := items[1]
		if len(first.ChangeList) != 2 || first.ChangeList[0].Field != "bannerText" || first.ChangeList[0].Old != "UNCLASSIFIED" {
			t.Fatalf("first audit row changes = %+v, want bannerText and bannerBackground against the defaults", first.ChangeList)
		}
		if v, err := audit.Verify(ctx, d); err != nil || !v.OK {
			t.Fatalf("audit chain: %+v, %v", v, err)
		}
	})
}

// Concurrent saves with the same version: exactly one may win, the rest must
// get PreconditionFailed. (Two administrators, or two nodes, editing at once.)
func TestSetPresentationConcurrentSameVersion(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, version := range []int64{0, 1} {
			if version == 1 {
				// The first round may have left the row at another version; start again from 1.
				if _, err := d.ExecContext(ctx, `UPDATE settings SET version = 1`); err != nil {
					t.Fatal(err)
				}
			}
			const n = 6
			var wg sync.WaitGroup
			results := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					p := secret()
					p.BannerText = "SECRET " + string(rune('A'+i))
					_, err := newStore(d, 0).SetPresentation(ctx, version, p)
					results <- err
				})
			}
			wg.Wait()
			close(results)
			won := 0
			for err := range results {
				switch {
				case err == nil:
					won++
				case !errs.Is(err, errs.PreconditionFailed):
					t.Errorf("version %d: unexpected error %v", version, err)
				}
			}
			if won != 1 {
				t.Errorf("version %d: %d concurrent saves succeeded, want exactly 1 (lost updates)", version, won)
			}
			var stored int64
			if err := d.QueryRowContext(ctx, `SELECT version FROM settings`).Scan(&stored); err != nil || stored != version+1 {
				t.Errorf("version %d: stored version %d (%v), want %d", version, stored, err, version+1)
			}
		}
	})
}
