package asset_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/asset"
)

func (e *env) count() int64 {
	e.t.Helper()
	_, total, err := e.svc.List(e.s, asset.ListFilter{}, listing.Params{})
	if err != nil {
		e.t.Fatal(err)
	}
	return total
}

func actions(rep asset.AssetImportReport) string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, fmt.Sprintf("%d:%s", r.Row, r.Action))
	}
	return strings.Join(out, " ")
}

// TestImport imports a CSV file: the dry run reports and writes nothing, the
// import creates; importing again updates by tag, then by serial number,
// instead of duplicating; unknown columns and broken rows are reported with
// their row and field, and nothing is written.
func TestImport(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		room := e.ci("Depot")
		file := fmt.Sprintf(`assetTag,serialNumber,kind,manufacturer,model,costMinor,purchaseDate,depreciationMethod,usefulLifeMonths,locationCiId,product,entitlements
IMP-1,S-100,hardware,HP,EliteBook 840,150000,2024-06-01,straight_line,36,%d,,
IMP-2,S-200,hardware,HP,EliteBook 840,150000,,,,%d,,
,,licence,,,50000,,,,,Microsoft Visio 2021,25
`, room, room)

		dry, err := e.svc.Import(e.an, asset.FormatCSV, []byte(file), true)
		if err != nil {
			t.Fatal(err)
		}
		if !dry.DryRun || dry.Applied || dry.Created != 3 || len(dry.Errors) != 0 || actions(dry) != "2:create 3:create 4:create" {
			t.Fatalf("dry run: %+v", dry)
		}
		if n := e.count(); n != 0 {
			t.Fatalf("the dry run wrote %d assets", n)
		}
		if _, err := e.svc.Import(e.dv, asset.FormatCSV, []byte(file), false); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "AM2") {
			t.Fatalf("the developer imports: %v", err)
		}
		rep, err := e.svc.Import(e.an, asset.FormatCSV, []byte(file), false)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Applied || rep.Created != 3 || rep.Rows[0].Number == "" || e.count() != 3 {
			t.Fatalf("import: %+v", rep)
		}
		first := e.get(rep.Rows[0].Number)
		if first.LocationCIID != room || first.Depreciation != asset.StraightLine || first.State != asset.Ordered {
			t.Fatalf("imported: %+v", first)
		}

		// Again: the first row by its tag, the second by its serial number (its tag changes), the third is new.
		again := `assetTag,serialNumber,model
IMP-1,,EliteBook 860
IMP-2B,s-200,
IMP-9,S-900,
`
		rep, err = e.svc.Import(e.an, asset.FormatCSV, []byte(again), true)
		if err != nil || rep.Updated != 2 || len(rep.Errors) != 1 || rep.Errors[0].Row != 4 || rep.Errors[0].Field != "kind" {
			t.Fatalf("a new row without kind: %+v (%v)", rep.Errors, err)
		}
		if _, err := e.svc.Import(e.an, asset.FormatCSV, []byte(again), false); !errs.Is(err, errs.Invalid) || !fieldAt(err, "rows[4].kind") {
			t.Fatalf("apply with an error: %v", err)
		}
		again = strings.Replace(again, "IMP-9,S-900,", "IMP-1,,EliteBook 860", 1)
		if _, err := e.svc.Import(e.an, asset.FormatCSV, []byte(again), false); !fieldAt(err, "rows[4]") {
			t.Fatalf("two rows for one asset: %v", err)
		}
		again = strings.Join(strings.Split(again, "\n")[:3], "\n") + "\n"
		rep, err = e.svc.Import(e.an, asset.FormatCSV, []byte(again), false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Updated != 2 || rep.Created != 0 || e.count() != 3 || rep.Rows[0].Number != first.Number ||
			!slices.Equal(rep.Rows[0].Changes, []string{"model"}) || !slices.Equal(rep.Rows[1].Changes, []string{"assetTag"}) {
			t.Fatalf("re-import: %+v", rep)
		}
		if got := e.get(first.Number); got.Model != "EliteBook 860" || got.Manufacturer != "HP" || got.CostMinor != 150000 {
			t.Fatalf("updated by tag: %+v", got)
		}
		if got := e.get(rep.Rows[1].Number); got.AssetTag != "IMP-2B" || got.SerialNumber != "S-200" {
			t.Fatalf("updated by serial number: %+v", got)
		}
		rep, err = e.svc.Import(e.an, asset.FormatCSV, []byte(again), false)
		if err != nil || rep.Unchanged != 2 || rep.Updated != 0 {
			t.Fatalf("importing the same again: %+v, %v", rep, err)
		}

		// Unknown columns and broken rows: reported, nothing written.
		for _, tc := range []struct {
			name, file string
			want       asset.AssetRowError
		}{
			{"unknown column", "assetTag,kind,colour\nNEW-1,hardware,red\n", asset.AssetRowError{Row: 1, Field: "colour"}},
			{"not a number", "assetTag,kind,costMinor\nNEW-1,hardware,12.50\n", asset.AssetRowError{Row: 2, Field: "costMinor"}},
			{"unknown user", "assetTag,kind,assignedUserId\nNEW-1,hardware,99999\n", asset.AssetRowError{Row: 2, Field: "assignedUserId"}},
			{"same tag twice", "assetTag,kind\nNEW-1,hardware\nNEW-1,facility\n", asset.AssetRowError{Row: 3, Field: "assetTag"}},
			{"number against tag", "number,assetTag\nAST0000003,IMP-1\n", asset.AssetRowError{Row: 2, Field: "number"}},
			{"unknown number", "number,model\nAST0000099,x\n", asset.AssetRowError{Row: 2, Field: "number"}},
			{"bad marking", "assetTag,kind,marking\nNEW-1,hardware,secret\n", asset.AssetRowError{Row: 2, Field: "marking"}},
		} {
			rep, err := e.svc.Import(e.an, asset.FormatCSV, []byte(tc.file), true)
			if err != nil {
				t.Fatalf("%s: dry run: %v", tc.name, err)
			}
			if rep.Applied || len(rep.Errors) == 0 || rep.Errors[0].Row != tc.want.Row || rep.Errors[0].Field != tc.want.Field {
				t.Errorf("%s: %+v, want %+v", tc.name, rep.Errors, tc.want)
			}
			if _, err := e.svc.Import(e.an, asset.FormatCSV, []byte(tc.file), false); !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: apply: %v", tc.name, err)
			}
		}
		if n := e.count(); n != 3 {
			t.Fatalf("refused imports wrote: %d assets", n)
		}
		if _, err := e.svc.Import(e.an, "xml", []byte("<a/>"), true); !fieldAt(err, "query.format") {
			t.Fatalf("xml: %v", err)
		}
	})
}

// TestExportRoundTrip exports the assets as CSV and JSON, with the
// classification banner, and imports both exports again without a change.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		room := e.ci("Depot")
		in := laptop("EXP-1")
		in.LocationCIID, in.AssignedUserID, in.Description = room, e.analyst.ID, "=HYPERLINK(\"x\")"
		in.PurchaseDate, in.Depreciation, in.UsefulLifeMonths, in.SalvageMinor = "2024-03-01", asset.DecliningBalance, 48, 10000
		a := e.create(in)
		e.create(asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: "visio", Entitlements: 5, LicenceMetric: asset.PerUser}})
		e.create(asset.NewAsset{Marking: "CUI", Details: asset.Details{Kind: asset.Facility}}) // no tag, no serial: identified by number

		ex, err := e.svc.Export(e.s, asset.ListFilter{}, asset.FormatCSV)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(ex.Body)), "\n")
		if ex.Classification != "CUI" || ex.Count != 3 || lines[0] != "CUI" || lines[len(lines)-1] != "CUI" || len(lines) != 6 ||
			!strings.Contains(string(ex.Body), `'=HYPERLINK`) || !strings.Contains(lines[2], "analyst") {
			t.Fatalf("CSV export:\n%s", ex.Body)
		}
		rep, err := e.svc.Import(e.an, asset.FormatCSV, ex.Body, false)
		if err != nil || rep.Unchanged != 3 || e.count() != 3 {
			t.Fatalf("re-import the CSV export: %+v, %v", rep, err)
		}
		if got := e.get(a.Number); got.Description != in.Description {
			t.Fatalf("the defused description came back as %q", got.Description)
		}

		ex, err = e.svc.Export(e.s, asset.ListFilter{Kind: asset.Hardware}, asset.FormatJSON)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Classification string
			Count          int
			Items          []asset.Asset
		}
		if err := json.Unmarshal(ex.Body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Classification != "CUI" || doc.Count != 1 || doc.Items[0].Number != a.Number || doc.Items[0].BookValueMinor >= a.CostMinor {
			t.Fatalf("JSON export: %s", ex.Body)
		}
		rep, err = e.svc.Import(e.an, asset.FormatJSON, ex.Body, false)
		if err != nil || rep.Unchanged != 1 {
			t.Fatalf("re-import the JSON export: %+v, %v", rep, err)
		}
		if _, err := e.svc.Export(e.s, asset.ListFilter{}, "pdf"); !fieldAt(err, "query.format") {
			t.Fatalf("pdf: %v", err)
		}
	})
}

// TestExportNeedsItsBanner: an export whose classification banner cannot be
// read fails rather than go out mislabelled; without a banner setting it reads
// the default marking.
func TestExportNeedsItsBanner(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnvWithBanner(t, d, func(context.Context) (string, error) { return "", errors.New("settings unavailable") })
		e.create(laptop("B-1"))
		if _, err := e.svc.Export(e.s, asset.ListFilter{}, asset.FormatCSV); err == nil || errs.KindOf(err) != errs.Internal {
			t.Fatalf("export without its banner: %v", err)
		}
		e = newEnvWithBanner(t, dbtest.Open(t, d.Engine()), func(context.Context) (string, error) { return " ", nil })
		ex, err := e.svc.Export(e.s, asset.ListFilter{}, asset.FormatJSON)
		if err != nil || ex.Classification != "UNCLASSIFIED" || !strings.Contains(string(ex.Body), `"classification": "UNCLASSIFIED"`) {
			t.Fatalf("export with an empty banner: %+v, %v", ex, err)
		}
	})
}
