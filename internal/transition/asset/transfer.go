package asset

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The import and export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// column is one field of the import and export formats.
type column struct {
	name string
	// set stores a cell's text in a change; nil for a read-only column.
	set func(c *Change, v string) error
	// get writes an asset's value.
	get func(a Asset) string
}

func text(dst func(c *Change) **string) func(c *Change, v string) error {
	return func(c *Change, v string) error { *dst(c) = &v; return nil }
}

func whole(dst func(c *Change) **int64) func(c *Change, v string) error {
	return func(c *Change, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("a whole number")
		}
		*dst(c) = &n
		return nil
	}
}

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// columns lists the import and export columns in export order. number
// identifies an asset (after assetTag and serialNumber); the read-only columns
// (state, bookValueMinor and the names) are exported and ignored on import, so
// that an export can be imported again.
var columns = []column{
	{name: "number", get: func(a Asset) string { return a.Number }},
	{name: "state", get: func(a Asset) string { return a.State }},
	{name: "kind", set: func(c *Change, v string) error { k := Kind(v); c.Kind = &k; return nil }, get: func(a Asset) string { return string(a.Kind) }},
	{name: "title", set: text(func(c *Change) **string { return &c.Title }), get: func(a Asset) string { return a.Title }},
	{name: "assetTag", set: text(func(c *Change) **string { return &c.AssetTag }), get: func(a Asset) string { return a.AssetTag }},
	{name: "serialNumber", set: text(func(c *Change) **string { return &c.SerialNumber }), get: func(a Asset) string { return a.SerialNumber }},
	{name: "manufacturer", set: text(func(c *Change) **string { return &c.Manufacturer }), get: func(a Asset) string { return a.Manufacturer }},
	{name: "model", set: text(func(c *Change) **string { return &c.Model }), get: func(a Asset) string { return a.Model }},
	{name: "ciId", set: whole(func(c *Change) **int64 { return &c.CIID }), get: func(a Asset) string { return itoa(a.CIID) }},
	{name: "ciName", get: func(a Asset) string { return a.CIName }},
	{name: "costMinor", set: whole(func(c *Change) **int64 { return &c.CostMinor }), get: func(a Asset) string { return strconv.FormatInt(a.CostMinor, 10) }},
	{name: "currency", set: text(func(c *Change) **string { return &c.Currency }), get: func(a Asset) string { return a.Currency }},
	{name: "bookValueMinor", get: func(a Asset) string { return strconv.FormatInt(a.BookValueMinor, 10) }},
	{name: "purchaseDate", set: text(func(c *Change) **string { return &c.PurchaseDate }), get: func(a Asset) string { return a.PurchaseDate }},
	{name: "depreciationMethod", set: func(c *Change, v string) error { m := Method(v); c.Depreciation = &m; return nil },
		get: func(a Asset) string { return string(a.Depreciation) }},
	{name: "usefulLifeMonths", set: whole(func(c *Change) **int64 { return &c.UsefulLifeMonths }), get: func(a Asset) string { return itoa(a.UsefulLifeMonths) }},
	{name: "salvageMinor", set: whole(func(c *Change) **int64 { return &c.SalvageMinor }), get: func(a Asset) string { return itoa(a.SalvageMinor) }},
	{name: "warrantyEnd", set: text(func(c *Change) **string { return &c.WarrantyEnd }), get: func(a Asset) string { return a.WarrantyEnd }},
	{name: "contractRef", set: text(func(c *Change) **string { return &c.ContractRef }), get: func(a Asset) string { return a.ContractRef }},
	{name: "supplier", set: text(func(c *Change) **string { return &c.Supplier }), get: func(a Asset) string { return a.Supplier }},
	{name: "assignedUserId", set: whole(func(c *Change) **int64 { return &c.AssignedUserID }), get: func(a Asset) string { return itoa(a.AssignedUserID) }},
	{name: "assignedUserName", get: func(a Asset) string { return a.AssignedUserName }},
	{name: "locationCiId", set: whole(func(c *Change) **int64 { return &c.LocationCIID }), get: func(a Asset) string { return itoa(a.LocationCIID) }},
	{name: "locationName", get: func(a Asset) string { return a.LocationName }},
	{name: "product", set: text(func(c *Change) **string { return &c.Product }), get: func(a Asset) string { return a.Product }},
	{name: "entitlements", set: whole(func(c *Change) **int64 { return &c.Entitlements }), get: func(a Asset) string { return itoa(a.Entitlements) }},
	{name: "licenceMetric", set: func(c *Change, v string) error { m := Metric(v); c.LicenceMetric = &m; return nil },
		get: func(a Asset) string { return string(a.LicenceMetric) }},
	{name: "marking", set: text(func(c *Change) **string { return &c.Marking }), get: func(a Asset) string { return a.Marking }},
	{name: "description", set: text(func(c *Change) **string { return &c.Description }), get: func(a Asset) string { return a.Description }},
}

// jsonReadOnly are the further fields of an exported asset that a JSON import ignores.
var jsonReadOnly = []string{"id", "type", "process", "closed", "priority", "teamId", "assigneeId", "requesterId", "serviceId",
	"reassignments", "createdAt", "updatedAt", "version", "underWarranty", "disposal"}

func columnNamed(name string) (column, bool) {
	i := slices.IndexFunc(columns, func(c column) bool { return c.name == name })
	if i < 0 {
		return column{}, false
	}
	return columns[i], true
}

func knownColumns() string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// AssetRowError is one problem of an import: the row (the line of a CSV file, the
// 1-based position of a JSON item; 0 for the body as a whole), the field and
// what is wrong.
type AssetRowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// importRow is one asset of an import: the change it asks for and the number
// that may identify it.
type importRow struct {
	Row    int
	Number string
	Change Change
}

// cellText defuses text a spreadsheet would evaluate as a formula (CSV
// injection) with a leading apostrophe; uncell undoes it on import.
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func uncell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// parseCSV reads assets from CSV: a header row of column names, then one row
// per asset. Single-field lines before the header and the same lines at the
// end (the classification banner an export carries) are skipped. An empty
// cell leaves a field as it is. Unknown or repeated columns fail the whole file.
func parseCSV(data []byte) ([]importRow, []AssetRowError) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, []AssetRowError{{Message: "the CSV is not valid UTF-8"}}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	type line struct {
		n      int
		fields []string
	}
	var lines []line
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			row := 0
			if e, ok := err.(*csv.ParseError); ok {
				pe, row = e, e.Line
			}
			msg := "not CSV"
			if pe != nil {
				msg = pe.Err.Error()
			}
			return nil, []AssetRowError{{Row: row, Message: "not valid CSV: " + msg}}
		}
		n, _ := r.FieldPos(0)
		lines = append(lines, line{n: n, fields: rec})
		if len(lines) > maxImportRow+4 {
			return nil, []AssetRowError{{Row: n, Message: fmt.Sprintf("at most %d assets per import", maxImportRow)}}
		}
	}
	var banner []string
	for len(lines) > 0 && len(lines[0].fields) == 1 {
		if _, known := columnNamed(strings.TrimSpace(lines[0].fields[0])); known {
			break
		}
		banner = append(banner, lines[0].fields[0])
		lines = lines[1:]
	}
	for len(lines) > 0 && len(lines[len(lines)-1].fields) == 1 && slices.Contains(banner, lines[len(lines)-1].fields[0]) {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, []AssetRowError{{Message: "the CSV has no header row"}}
	}
	head := lines[0]
	var errs []AssetRowError
	cols := make([]column, len(head.fields))
	seen := map[string]bool{}
	for i, name := range head.fields {
		name = strings.TrimSpace(name)
		c, ok := columnNamed(name)
		switch {
		case !ok:
			errs = append(errs, AssetRowError{Row: head.n, Field: name, Message: "unknown column; the columns are " + knownColumns()})
		case seen[name]:
			errs = append(errs, AssetRowError{Row: head.n, Field: name, Message: "the column appears twice"})
		}
		seen[name] = true
		cols[i] = c
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var rows []importRow
	for _, l := range lines[1:] {
		if len(l.fields) != len(cols) {
			errs = append(errs, AssetRowError{Row: l.n, Message: fmt.Sprintf("%d fields, but the header names %d columns", len(l.fields), len(cols))})
			continue
		}
		row := importRow{Row: l.n}
		for i, v := range l.fields {
			v = uncell(strings.TrimSpace(v))
			c := cols[i]
			if v == "" {
				continue
			}
			if c.name == "number" {
				row.Number = v
				continue
			}
			if c.set == nil {
				continue
			}
			if err := c.set(&row.Change, v); err != nil {
				errs = append(errs, AssetRowError{Row: l.n, Field: c.name, Message: err.Error()})
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, AssetRowError{Row: head.n, Message: "the CSV has a header but no assets"})
	}
	return rows, errs
}

// parseJSON reads assets from JSON: an array of asset objects, or an object
// whose items are (an export). A field that is absent or null leaves a field
// as it is; unknown fields fail the whole body.
func parseJSON(data []byte) ([]importRow, []AssetRowError) {
	trimmed := bytes.TrimSpace(data)
	var items []json.RawMessage
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")):
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, []AssetRowError{{Message: "not a JSON array of assets: " + err.Error()}}
		}
	case bytes.HasPrefix(trimmed, []byte("{")):
		var doc struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, []AssetRowError{{Message: "not a JSON object with items: " + err.Error()}}
		}
		if doc.Items == nil {
			return nil, []AssetRowError{{Field: "items", Message: "an object names its assets in items"}}
		}
		items = doc.Items
	default:
		return nil, []AssetRowError{{Message: "a JSON array of assets, or an object with items"}}
	}
	if len(items) > maxImportRow {
		return nil, []AssetRowError{{Message: fmt.Sprintf("at most %d assets per import", maxImportRow)}}
	}
	var rows []importRow
	var errs []AssetRowError
	for i, raw := range items {
		n := i + 1
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			errs = append(errs, AssetRowError{Row: n, Message: "an asset is a JSON object"})
			continue
		}
		row := importRow{Row: n}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := obj[k]
			c, ok := columnNamed(k)
			if !ok {
				if !slices.Contains(jsonReadOnly, k) {
					errs = append(errs, AssetRowError{Row: n, Field: k, Message: "unknown field; the fields are " + knownColumns()})
				}
				continue
			}
			if string(v) == "null" || c.set == nil && c.name != "number" {
				continue
			}
			var cell string
			if bytes.HasPrefix(bytes.TrimSpace(v), []byte(`"`)) {
				if err := json.Unmarshal(v, &cell); err != nil {
					errs = append(errs, AssetRowError{Row: n, Field: k, Message: "not valid JSON text"})
					continue
				}
			} else {
				var num json.Number
				dec := json.NewDecoder(bytes.NewReader(v))
				dec.UseNumber()
				if err := dec.Decode(&num); err != nil {
					errs = append(errs, AssetRowError{Row: n, Field: k, Message: "a string or a number"})
					continue
				}
				cell = num.String()
			}
			if c.name == "number" {
				row.Number = cell
				continue
			}
			if err := c.set(&row.Change, cell); err != nil {
				errs = append(errs, AssetRowError{Row: n, Field: k, Message: err.Error()})
			}
		}
		rows = append(rows, row)
	}
	if len(items) == 0 {
		errs = append(errs, AssetRowError{Message: "no assets to import"})
	}
	return rows, errs
}

// writeCSV writes assets as CSV: the classification banner, the header, one
// row per asset and the banner again. Text a spreadsheet would take for a
// formula is defused with a leading apostrophe.
func writeCSV(w io.Writer, classification string, assets []Asset) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{cellText(classification)})
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = c.name
	}
	_ = cw.Write(head)
	rec := make([]string, len(columns))
	for _, a := range assets {
		for i, c := range columns {
			rec[i] = cellText(c.get(a))
		}
		_ = cw.Write(rec)
	}
	_ = cw.Write([]string{cellText(classification)})
	cw.Flush()
	return cw.Error()
}
