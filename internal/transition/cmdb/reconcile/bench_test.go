package reconcile_test

import (
	"fmt"
	"testing"

	"steward/internal/transition/cmdb/reconcile"
)

// benchData builds n recorded servers and n observed rows: most identified by serial
// number, some only by host name and domain, a few unknown, every tenth with a
// differing attribute, and every fiftieth recorded item not observed.
func benchData(n int) ([]reconcile.Item, []reconcile.Row) {
	items := make([]reconcile.Item, n)
	rows := make([]reconcile.Row, 0, n)
	for i := range n {
		items[i] = reconcile.Item{ID: int64(i + 1), Fields: map[string]string{
			"name":          fmt.Sprintf("srv%07d", i),
			"serial_number": fmt.Sprintf("SN%09d", i),
			"hostname":      fmt.Sprintf("srv%07d", i),
			"domain":        "dc1.example.com",
			"cpus":          "8",
			"ram_gb":        "64",
			"os":            "Linux",
		}}
		if i%50 == 0 {
			continue
		}
		obs := map[string]string{
			"name":          fmt.Sprintf("srv%07d", i),
			"serial_number": fmt.Sprintf("sn%09d", i),
			"hostname":      fmt.Sprintf("SRV%07d", i),
			"domain":        "dc1.example.com.",
			"cpus":          "8.0",
			"ram_gb":        "64",
			"os":            "Linux",
		}
		switch {
		case i%20 == 1:
			obs["serial_number"] = ""
		case i%97 == 0:
			obs["serial_number"], obs["hostname"] = fmt.Sprintf("NEW%d", i), fmt.Sprintf("new%d", i)
		}
		if i%10 == 3 {
			obs["ram_gb"] = "128"
		}
		rows = append(rows, reconcile.Row{Line: len(rows) + 2, Fields: obs})
	}
	return items, rows
}

// BenchmarkReconcile100k reconciles a hundred thousand items against as many rows.
func BenchmarkReconcile100k(b *testing.B) { benchmarkReconcile(b, 100_000) }

// BenchmarkReconcile1M is the size the package is meant for: a million recorded
// items against a million observed rows.
func BenchmarkReconcile1M(b *testing.B) { benchmarkReconcile(b, 1_000_000) }

func benchmarkReconcile(b *testing.B, n int) {
	items, rows := benchData(n)
	cmp := []string{"name", "serial_number", "hostname", "domain", "cpus", "ram_gb", "os"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep := reconcile.Reconcile(rules, items, rows, cmp)
		if rep.Matched == 0 {
			b.Fatal("nothing matched")
		}
	}
}
