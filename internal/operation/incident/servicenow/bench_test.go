package servicenow

import (
	"bytes"
	"testing"
)

// BenchmarkParseSharedSample measures Parse on the shared sample (about 6,000 rows).
func BenchmarkParseSharedSample(b *testing.B) {
	data, err := readFileOrSkip(b, sharedSample)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := Parse(bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
