package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/auth"
	"steward/internal/platform/httpx"
	"steward/internal/platform/outbox"
)

type webhooksOut struct {
	Body struct {
		Items []outbox.Webhook `json:"items"`
	}
}

type webhookOne struct {
	ETag string `header:"ETag"`
	Body outbox.Webhook
}

// NewWebhook is a freshly created webhook with its signing secret, shown only in this response.
type NewWebhook struct {
	outbox.Webhook
	Secret string `json:"secret" doc:"The signing secret (Standard Webhooks whsec_ format). It is shown only once."`
}

type webhookCreated struct {
	ETag string `header:"ETag"`
	Body NewWebhook
}

type webhookCreateIn struct {
	Body struct {
		Name        string   `json:"name" maxLength:"100"`
		URL         string   `json:"url" maxLength:"2000" doc:"Absolute http(s) URL that receives the events."`
		EventTypes  []string `json:"eventTypes,omitempty" maxItems:"100" doc:"Event types such as team.created, prefixes such as team.*, or *."`
		Active      *bool    `json:"active,omitempty"`
		MaxAttempts int      `json:"maxAttempts,omitempty" minimum:"0" maximum:"50" doc:"Delivery attempts before an event is dead-lettered; 0 means 8."`
	}
}

type webhookPatchIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Name        *string   `json:"name,omitempty" maxLength:"100"`
		URL         *string   `json:"url,omitempty" maxLength:"2000"`
		EventTypes  *[]string `json:"eventTypes,omitempty" maxItems:"100"`
		Active      *bool     `json:"active,omitempty"`
		MaxAttempts *int      `json:"maxAttempts,omitempty" minimum:"0" maximum:"50"`
	}
}

type webhookDeleteIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

type deliveriesIn struct {
	IDPath
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type deadLettersIn struct {
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type deliveriesOut struct {
	Body struct {
		Items []outbox.Delivery `json:"items"`
	}
}

func registerWebhooks(a *httpx.API, d Deps) {
	tag := []string{"Webhooks"}
	perm := string(auth.PermWebhooks)
	httpx.Register(a, huma.Operation{OperationID: "list-webhooks", Method: http.MethodGet, Path: "/api/v1/webhooks", Summary: "List webhooks", Tags: tag},
		perm, func(ctx context.Context, _ *struct{}) (*webhooksOut, error) {
			w, err := d.Webhooks.List(ctx)
			out := &webhooksOut{}
			out.Body.Items = w
			if out.Body.Items == nil {
				out.Body.Items = []outbox.Webhook{}
			}
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "create-webhook", Method: http.MethodPost, Path: "/api/v1/webhooks",
		Summary: "Subscribe a URL to events (the signing secret is shown once)", Tags: tag, DefaultStatus: http.StatusCreated},
		perm, func(ctx context.Context, in *webhookCreateIn) (*webhookCreated, error) {
			b := in.Body
			w, secret, err := d.Webhooks.Create(ctx, outbox.WebhookInput{Name: b.Name, URL: b.URL, EventTypes: b.EventTypes, Active: b.Active, MaxAttempts: b.MaxAttempts})
			if err != nil {
				return nil, err
			}
			return &webhookCreated{ETag: httpx.ETag(w.Version), Body: NewWebhook{Webhook: w, Secret: secret}}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-webhook", Method: http.MethodGet, Path: "/api/v1/webhooks/{id}", Summary: "Get a webhook", Tags: tag},
		perm, func(ctx context.Context, in *IDPath) (*webhookOne, error) {
			w, err := d.Webhooks.Get(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &webhookOne{ETag: httpx.ETag(w.Version), Body: w}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-webhook", Method: http.MethodPatch, Path: "/api/v1/webhooks/{id}", Summary: "Change a webhook", Tags: tag},
		perm, func(ctx context.Context, in *webhookPatchIn) (*webhookOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			w, err := d.Webhooks.Update(ctx, in.ID, v, outbox.WebhookUpdate{Name: b.Name, URL: b.URL, EventTypes: b.EventTypes, Active: b.Active, MaxAttempts: b.MaxAttempts})
			if err != nil {
				return nil, err
			}
			return &webhookOne{ETag: httpx.ETag(w.Version), Body: w}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-webhook", Method: http.MethodDelete, Path: "/api/v1/webhooks/{id}", Summary: "Delete a webhook",
		Tags: tag, DefaultStatus: http.StatusNoContent},
		perm, func(ctx context.Context, in *webhookDeleteIn) (*struct{}, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			return nil, d.Webhooks.Delete(ctx, in.ID, v)
		})
	httpx.Register(a, huma.Operation{OperationID: "list-webhook-deliveries", Method: http.MethodGet, Path: "/api/v1/webhooks/{id}/deliveries",
		Summary: "Recent deliveries of a webhook", Tags: tag},
		perm, func(ctx context.Context, in *deliveriesIn) (*deliveriesOut, error) {
			if _, err := d.Webhooks.Get(ctx, in.ID); err != nil {
				return nil, err
			}
			ds, err := d.Webhooks.Deliveries(ctx, in.ID, in.Limit)
			out := &deliveriesOut{}
			out.Body.Items = nonNil(ds)
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "list-dead-letters", Method: http.MethodGet, Path: "/api/v1/dead-letters",
		Summary: "Webhook deliveries that ran out of attempts", Tags: tag},
		perm, func(ctx context.Context, in *deadLettersIn) (*deliveriesOut, error) {
			ds, err := d.Webhooks.DeadLetters(ctx, in.Limit)
			out := &deliveriesOut{}
			out.Body.Items = nonNil(ds)
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "replay-dead-letter", Method: http.MethodPost, Path: "/api/v1/dead-letters/{id}/replay",
		Summary: "Send a dead-lettered delivery again", Tags: tag, DefaultStatus: http.StatusAccepted},
		perm, func(ctx context.Context, in *IDPath) (*struct{}, error) {
			if err := d.Webhooks.Replay(ctx, in.ID); err != nil {
				return nil, err
			}
			d.Webhooks.Notify()
			return nil, nil
		})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
