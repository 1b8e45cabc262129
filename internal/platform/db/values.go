package db

import (
	"strings"
	"time"
)

// In writes the placeholders and arguments of an IN list: "(?,?,?)" and the values.
func In[T any](vs []T) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return "(" + Marks(len(vs)) + ")", args
}

// Marks writes n placeholders separated by commas ("?,?,?"), for an IN list or a VALUES row.
func Marks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// NullID is an id as stored: SQL NULL for 0 (none).
func NullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// Time is a stored unix-millisecond time in UTC; 0 (never) is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// TimePtr is a stored unix-millisecond time, or nil for 0 (never).
func TimePtr(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := Time(ms)
	return &t
}
