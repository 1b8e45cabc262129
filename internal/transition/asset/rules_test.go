package asset

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(dateStyle, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBookValue(t *testing.T) {
	t.Parallel()
	sl := func(cost, salvage, life int64, bought string) Details {
		return Details{CostMinor: cost, SalvageMinor: salvage, UsefulLifeMonths: life, PurchaseDate: bought, Depreciation: StraightLine}
	}
	ddb := func(cost, salvage, life int64, bought string) Details {
		d := sl(cost, salvage, life, bought)
		d.Depreciation = DecliningBalance
		return d
	}
	for _, tc := range []struct {
		name  string
		d     Details
		today string
		want  int64
	}{
		{"none keeps the cost", Details{CostMinor: 100000, Depreciation: NoDepreciation, PurchaseDate: "2020-01-01"}, "2025-01-01", 100000},
		{"no method is none", Details{CostMinor: 5}, "2025-01-01", 5},
		{"straight line, 3 of 12 months", sl(120000, 0, 12, "2025-01-01"), "2025-04-01", 90000},
		{"straight line, the day before a month is whole", sl(120000, 0, 12, "2025-01-15"), "2025-04-14", 100000},
		{"straight line with salvage, 13 of 36 months", sl(100000, 10000, 36, "2024-01-15"), "2025-03-01", 67500},
		{"straight line after its life is the salvage", sl(100000, 10000, 36, "2020-01-01"), "2025-03-01", 10000},
		{"before the purchase date", sl(100000, 0, 36, "2026-01-01"), "2025-03-01", 100000},
		{"straight line rounds each step to the minor unit", sl(100, 0, 3, "2025-01-01"), "2025-02-01", 67},
		{"double declining, month 1", ddb(100000, 0, 4, "2025-01-01"), "2025-02-01", 50000},
		{"double declining, month 2", ddb(100000, 0, 4, "2025-01-01"), "2025-03-01", 25000},
		{"double declining ends at salvage 0", ddb(100000, 0, 4, "2025-01-01"), "2025-05-01", 0},
		{"double declining, month 4 of 5", ddb(100000, 10000, 5, "2025-01-01"), "2025-05-01", 12960},
		{"double declining never below salvage", ddb(100000, 10000, 5, "2025-01-01"), "2025-06-01", 10000},
		{"double declining before the switch", ddb(100000, 0, 10, "2025-01-01"), "2025-07-01", 26214},
		{"double declining after switching to straight line", ddb(100000, 0, 10, "2025-01-01"), "2025-08-01", 19660},
		{"double declining, month 9 of 10", ddb(100000, 0, 10, "2025-01-01"), "2025-10-01", 6553},
		{"double declining at the end of its life", ddb(100000, 0, 10, "2025-01-01"), "2026-01-01", 0},
		{"a depreciating asset without a purchase date keeps its cost", sl(100000, 0, 12, ""), "2025-01-01", 100000},
	} {
		if got := BookValue(tc.d, day(tc.today)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestBookValueProperties: every method falls month by month, never below
// salvage, and reaches it at the end of the useful life.
func TestBookValueProperties(t *testing.T) {
	t.Parallel()
	for _, m := range []Method{StraightLine, DecliningBalance} {
		for _, life := range []int64{1, 2, 7, 36, 60, 121} {
			for _, cost := range []int64{0, 1, 999, 180000, 123456789} {
				salvage := cost / 7
				d := Details{CostMinor: cost, SalvageMinor: salvage, UsefulLifeMonths: life, PurchaseDate: "2020-01-31", Depreciation: m}
				prev := cost
				for month := int64(0); month <= life+2; month++ {
					today := day("2020-01-31").AddDate(0, int(month), 5)
					bv := BookValue(d, today)
					if bv > prev || bv < salvage {
						t.Fatalf("%s life %d cost %d month %d: %d after %d (salvage %d)", m, life, cost, month, bv, prev, salvage)
					}
					prev = bv
				}
				if prev != salvage {
					t.Errorf("%s life %d cost %d: ends at %d, want salvage %d", m, life, cost, prev, salvage)
				}
			}
		}
	}
}

func TestProductKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Microsoft Visio 2021":    "microsoft-visio-2021",
		"microsoft_visio--2021 ":  "microsoft-visio-2021",
		"  Adobe® Acrobat Pro DC": "adobe-acrobat-pro-dc",
		"Ünïcode Süite":           "ünïcode-süite",
		"---":                     "",
		"7-Zip":                   "7-zip",
	} {
		if got := ProductKey(in); got != want {
			t.Errorf("ProductKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestComplianceReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		licences []licenceLine
		installs []installLine
		want     []LicencePosition
	}{
		{"nothing", nil, nil, []LicencePosition{}},
		{"compliant", []licenceLine{{"a", 2, PerInstall, InStorage}}, []installLine{{"a", 1}, {"a", 2}},
			[]LicencePosition{{Product: "a", Metric: PerInstall, Entitlements: 2, Licences: 1, Installations: 2, Consumption: 2, Status: Compliant}}},
		{"over-licensed, seats summed over licences", []licenceLine{{"a", 5, PerInstall, Deployed}, {"a", 3, PerInstall, Ordered}},
			[]installLine{{"a", 0}},
			[]LicencePosition{{Product: "a", Metric: PerInstall, Entitlements: 8, Licences: 2, Installations: 1, Consumption: 1,
				Status: OverLicensed, Surplus: 7}}},
		{"retired, disposed and missing licences do not count",
			[]licenceLine{{"a", 5, PerInstall, Retired}, {"a", 5, PerInstall, Disposed}, {"a", 5, PerInstall, Missing}, {"a", 1, PerInstall, Received}},
			[]installLine{{"a", 0}, {"a", 0}, {"a", 0}},
			[]LicencePosition{{Product: "a", Metric: PerInstall, Entitlements: 1, Licences: 1, Installations: 3, Consumption: 3,
				Status: UnderLicensed, Shortfall: 2}}},
		{"unlicensed installations", nil, []installLine{{"b", 7}},
			[]LicencePosition{{Product: "b", Metric: PerInstall, Installations: 1, Consumption: 1, Status: UnderLicensed, Shortfall: 1}}},
		{"per user counts distinct users, and hosts without one each", []licenceLine{{"p", 2, PerUser, InStorage}},
			[]installLine{{"p", 1}, {"p", 1}, {"p", 2}, {"p", 0}},
			[]LicencePosition{{Product: "p", Metric: PerUser, Entitlements: 2, Licences: 1, Installations: 4, Consumption: 3,
				Status: UnderLicensed, Shortfall: 1}}},
		{"mixed metrics count installations", []licenceLine{{"p", 2, PerUser, InStorage}, {"p", 1, PerInstall, InStorage}},
			[]installLine{{"p", 1}, {"p", 1}, {"p", 1}},
			[]LicencePosition{{Product: "p", Metric: PerInstall, Entitlements: 3, Licences: 2, Installations: 3, Consumption: 3, Status: Compliant}}},
		{"sorted by product", []licenceLine{{"z", 1, PerInstall, InStorage}, {"a", 1, PerInstall, InStorage}}, nil,
			[]LicencePosition{{Product: "a", Metric: PerInstall, Entitlements: 1, Licences: 1, Status: OverLicensed, Surplus: 1},
				{Product: "z", Metric: PerInstall, Entitlements: 1, Licences: 1, Status: OverLicensed, Surplus: 1}}},
	} {
		if got := complianceReport(tc.licences, tallyInstalls(tc.installs)); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	assets := []auditAsset{
		{ID: 1, Number: "AST1", Tag: "T1", Serial: "S1", Kind: Hardware, State: InStorage, LocationCIID: 10},
		{ID: 2, Number: "AST2", Tag: "T2", Serial: "DUP", Kind: Hardware, State: Deployed, LocationCIID: 10},
		{ID: 3, Number: "AST3", Tag: "T3", Serial: "DUP", Kind: Hardware, State: InStorage, LocationCIID: 20},
		{ID: 4, Number: "AST4", Tag: "T4", Kind: Software, State: InStorage, LocationCIID: 10},
		{ID: 5, Number: "AST5", Tag: "T5", Kind: Facility, State: Retired, LocationCIID: 10},
		{ID: 6, Number: "AST6", Tag: "T6", Kind: Hardware, State: Disposed, LocationCIID: 10},
	}
	got := reconcile(10, []string{"s1", "DUP", "t1", "T6", ""}, assets)
	type row struct {
		r     AuditResult
		asset string
		why   string
	}
	var rows []row
	for _, it := range got {
		rows = append(rows, row{it.Result, it.Asset, it.Reason})
	}
	want := []row{
		{Found, "AST1", ""},
		{Unexpected, "", "the serial number of several assets (AST2, AST3); observe their tags"},
		{Unexpected, "AST6", "recorded as disposed"},
		{NotObserved, "AST2", "recorded deployed here but not observed"},
		{NotObserved, "AST5", "recorded retired here but not observed"},
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("reconcile:\n got %+v\nwant %+v", rows, want)
	}
}

func TestParseCSV(t *testing.T) {
	t.Parallel()
	file := "\ufeffSECRET//NOFORN\nassetTag,kind,costMinor,title,state\nA-1,hardware,1500,'=SUM(A1),deployed\n\n" +
		"A-2,licence,,\"Visio, 10 seats\",\nSECRET//NOFORN\n"
	rows, errs := parseCSV([]byte(file))
	if len(errs) != 0 || len(rows) != 2 {
		t.Fatalf("rows %+v, errors %+v", rows, errs)
	}
	r := rows[0]
	if r.Row != 3 || *r.Change.AssetTag != "A-1" || *r.Change.Kind != Hardware || *r.Change.CostMinor != 1500 || *r.Change.Title != "=SUM(A1)" {
		t.Fatalf("row 1: %+v", r)
	}
	if r := rows[1]; r.Row != 5 || r.Change.CostMinor != nil || *r.Change.Title != "Visio, 10 seats" {
		t.Fatalf("row 2 (line 5): %+v", r)
	}
	for _, tc := range []struct {
		name, file string
		want       AssetRowError
	}{
		{"unknown column", "assetTag,colour\nA,red\n", AssetRowError{Row: 1, Field: "colour"}},
		{"column twice", "assetTag,assetTag\nA,B\n", AssetRowError{Row: 1, Field: "assetTag"}},
		{"not a whole number", "kind,costMinor\nhardware,12.50\n", AssetRowError{Row: 2, Field: "costMinor"}},
		{"field count", "kind,assetTag\nhardware\n", AssetRowError{Row: 2}},
		{"no header", "", AssetRowError{}},
		{"bare quote", "kind\n\"hard\"ware\n", AssetRowError{Row: 2}},
	} {
		_, errs := parseCSV([]byte(tc.file))
		if len(errs) == 0 || errs[0].Row != tc.want.Row || errs[0].Field != tc.want.Field {
			t.Errorf("%s: %+v, want %+v", tc.name, errs, tc.want)
		}
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	rows, errs := parseJSON([]byte(`[{"kind":"hardware","assetTag":"A-1","costMinor":1500,"ciId":null,"id":7,"state":"deployed"}]`))
	if len(errs) != 0 || len(rows) != 1 || *rows[0].Change.CostMinor != 1500 || rows[0].Change.CIID != nil {
		t.Fatalf("array: %+v %+v", rows, errs)
	}
	rows, errs = parseJSON([]byte(`{"classification":"CUI","items":[{"number":"AST0000001","model":"X"}]}`))
	if len(errs) != 0 || rows[0].Number != "AST0000001" || *rows[0].Change.Model != "X" {
		t.Fatalf("export object: %+v %+v", rows, errs)
	}
	for _, tc := range []struct {
		name, body string
		want       AssetRowError
	}{
		{"unknown field", `[{"kind":"hardware","colour":"red"}]`, AssetRowError{Row: 1, Field: "colour"}},
		{"bool", `[{"kind":true}]`, AssetRowError{Row: 1, Field: "kind"}},
		{"fraction", `[{"kind":"hardware"},{"costMinor":1.5}]`, AssetRowError{Row: 2, Field: "costMinor"}},
		{"not an object", `[1]`, AssetRowError{Row: 1}},
		{"not JSON", `kind=hardware`, AssetRowError{}},
		{"empty", `[]`, AssetRowError{}},
		{"object without items", `{"assets":[]}`, AssetRowError{Field: "items"}},
	} {
		_, errs := parseJSON([]byte(tc.body))
		if len(errs) == 0 || errs[0].Row != tc.want.Row || errs[0].Field != tc.want.Field {
			t.Errorf("%s: %+v, want %+v", tc.name, errs, tc.want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	a := Asset{Details: Details{Kind: Hardware, AssetTag: "A-1", Model: "-1 model", CostMinor: 100, Currency: "USD"}}
	a.Number, a.State, a.Title = "AST0000001", Deployed, "@laptop"
	if err := writeCSV(&b, "CUI", []Asset{a}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || lines[0] != "CUI" || lines[3] != "CUI" || !strings.HasPrefix(lines[1], "number,state,kind,title,assetTag") ||
		!strings.Contains(lines[2], "'@laptop") || !strings.Contains(lines[2], "'-1 model") {
		t.Fatalf("CSV:\n%s", b.String())
	}
	rows, errs := parseCSV(b.Bytes())
	if len(errs) != 0 || len(rows) != 1 || *rows[0].Change.Title != "@laptop" || *rows[0].Change.Model != "-1 model" || rows[0].Number != a.Number {
		t.Fatalf("round trip: %+v %+v", rows, errs)
	}
}

// FuzzParseCSV: any bytes parse without a panic, every row and error names a
// line of the file, and a file with errors in its header yields no rows.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("CUI\nassetTag,kind,costMinor\nA-1,hardware,100\nCUI\n"))
	f.Add([]byte("assetTag,colour\nA,red\n"))
	f.Add([]byte("\"a\nb\",kind\n"))
	f.Add([]byte("kind\n'=1+1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs := parseCSV(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, r := range rows {
			if r.Row < 1 || r.Row > lines {
				t.Fatalf("row %d of a %d-line file", r.Row, lines)
			}
		}
		for _, e := range errs {
			if e.Row < 0 || e.Row > lines || e.Message == "" {
				t.Fatalf("error %+v of a %d-line file", e, lines)
			}
		}
	})
}

// FuzzParseJSON: any bytes parse without a panic, rows number their items from 1.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`[{"kind":"hardware","costMinor":1}]`))
	f.Add([]byte(`{"classification":"CUI","items":[{"number":"AST0000001"}]}`))
	f.Add([]byte(`[{"costMinor":1e400}]`))
	f.Add([]byte(`[null, 1, "x", {"kind": {"a": 1}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs := parseJSON(data)
		for i, r := range rows {
			if r.Row < i+1 {
				t.Fatalf("row %d at %d", r.Row, i)
			}
		}
		for _, e := range errs {
			if e.Row < 0 || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
		}
	})
}
