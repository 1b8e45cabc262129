package httpx

import "steward/internal/platform/listing"

// Page is a list response: a page of items, with the total count and the next
// page's address as headers.
type Page[T any] struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[T]
}

// One is a single resource with its ETag.
type One[T any] struct {
	ETag string `header:"ETag"`
	Body T
}

// Created is a new resource with its ETag and address.
type Created[T any] struct {
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     T
}
