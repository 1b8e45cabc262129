package tracker

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
)

type numberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The record number, such as INC0000001."`
}

type clocksOut struct{ Body RecordClocks }

type correctionIn struct {
	Number string `path:"number" maxLength:"32" doc:"The record number, such as INC0000001."`
	Body   struct {
		From   time.Time `json:"from" doc:"When the pause began; not before the record was logged."`
		To     time.Time `json:"to" doc:"When the pause ended; after from and not in the future."`
		Reason string    `json:"reason" maxLength:"1000" doc:"Why the clocks pause, such as the caller could not be reached."`
	}
}

type correctionOut struct {
	Body sla.Correction
}

type breachingIn struct {
	listing.Params
	Within  string `query:"within" maxLength:"20" doc:"How far ahead a due time counts as soon, as a Go duration such as 4h or 30m; 4h when absent."`
	Team    int64  `query:"team" minimum:"0" doc:"Only records of this team."`
	Service int64  `query:"service" minimum:"0" doc:"Only records of this CMDB service."`
}

type breachingOut struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[BreachRow]
}

type recomputeIn struct {
	Body struct {
		Number string `json:"number,omitempty" maxLength:"32" doc:"Recompute this record's clocks now; every record's in the background when absent."`
	}
}

type recomputeOut struct {
	Body struct {
		Queued bool `json:"queued" doc:"True when every record's recompute was queued as a background job."`
	}
}

// RegisterAPI adds the service-level clock endpoints to a: a record's clocks
// and corrections, the breaching-soon list, and asking for a recompute.
// Reading needs a signed-in caller and the record's visibility; a correction
// needs the right to change the record; a recompute SLM1 (R or A) or an
// administrator.
func RegisterAPI(a *httpx.API, s *Service) {
	tag := []string{"Service levels"}
	httpx.Register(a, huma.Operation{OperationID: "get-record-sla", Method: http.MethodGet, Path: "/api/v1/records/{number}/sla",
		Summary: "A record's service-level clocks, computed now from its history", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *numberPath) (*clocksOut, error) {
			rc, err := s.Clocks(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &clocksOut{Body: rc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-record-sla-correction", Method: http.MethodPost,
		Path: "/api/v1/records/{number}/sla/corrections", DefaultStatus: http.StatusCreated,
		Summary: "Pause a record's clocks over a past stretch (a correction)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *correctionIn) (*correctionOut, error) {
			c, err := s.AddCorrection(ctx, in.Number, sla.Correction{From: in.Body.From.UnixMilli(), To: in.Body.To.UnixMilli(),
				Reason: in.Body.Reason})
			if err != nil {
				return nil, err
			}
			return &correctionOut{Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-sla-breaching", Method: http.MethodGet, Path: "/api/v1/sla/breaching",
		Summary: "Running clocks due soon or breached, soonest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *breachingIn) (*breachingOut, error) {
			f := BreachFilter{TeamID: in.Team, ServiceID: in.Service}
			if in.Within != "" {
				d, err := time.ParseDuration(in.Within)
				if err != nil || d <= 0 || d > 366*24*time.Hour {
					return nil, errs.Field("query.within", "a positive duration such as 4h or 30m, at most a year", in.Within)
				}
				f.Within = d
			}
			page, total, err := s.BreachingSoon(ctx, f, in.Params)
			if err != nil {
				return nil, err
			}
			link := listing.NextLink("/api/v1/sla/breaching", in.Params, url.Values{"within": {in.Within},
				"team": {strconv.FormatInt(in.Team, 10)}, "service": {strconv.FormatInt(in.Service, 10)}}, page.NextCursor)
			return &breachingOut{TotalCount: total, Link: link, Body: page}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "recompute-sla", Method: http.MethodPost, Path: "/api/v1/sla/recompute",
		DefaultStatus: http.StatusAccepted, Summary: "Recompute service-level clocks (SLM1)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *recomputeIn) (*recomputeOut, error) {
			q, err := s.AskRecompute(ctx, in.Body.Number)
			if err != nil {
				return nil, err
			}
			out := &recomputeOut{}
			out.Body.Queued = q
			return out, nil
		})
}
