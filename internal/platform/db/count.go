package db

import (
	"context"
	"sync/atomic"
)

// countKey marks a context whose statements are counted.
type countKey struct{}

// CountQueries returns a context under which every statement run through a
// DB or a Tx is counted, and a function that reads the count. Tests use it to
// hold a use case to a fixed number of queries, however much data it touches.
func CountQueries(ctx context.Context) (context.Context, func() int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, countKey{}, n), n.Load
}

// counted adds one to ctx's statement count, when it has one.
func counted(ctx context.Context) {
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}
