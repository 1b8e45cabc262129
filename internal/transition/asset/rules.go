package asset

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// Limits on the fields of assets.
const (
	maxShort   = 200
	maxTag     = 64
	maxSerial  = 100
	maxProduct = 100
	maxNotes   = 4000
	maxLife    = 1200 // months: a hundred years
	// maxMoney bounds amounts so that depreciation arithmetic cannot overflow: 10^15 minor units.
	maxMoney     = 1_000_000_000_000_000
	maxSeats     = 10_000_000
	dateStyle    = "2006-01-02"
	defaultCurr  = "USD"
	maxObserved  = 10_000
	maxImportRow = 10_000
)

var (
	tagPattern      = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._/-]*$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// fieldErrs collects field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, no control characters.
func (f *fieldErrs) text(loc, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		f.add(loc, "no control characters", nil)
	}
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

// ProductKey normalises a product name to its key: lower case, every run of
// characters other than letters and digits one hyphen, no hyphen at either
// end. "Microsoft Visio 2021" and "microsoft_visio-2021" are both
// "microsoft-visio-2021".
func ProductKey(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// Identifier normalises an asset tag or serial number: trimmed and upper-case.
func Identifier(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// parseDate reads a YYYY-MM-DD date between the years 1900 and 9999.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(dateStyle, s)
	if err != nil || t.Year() < 1900 {
		return time.Time{}, false
	}
	return t, true
}

// normalize trims and normalises the fields of d in place: identifiers
// upper-case, the currency upper-case (USD when empty), the product key, and
// the depreciation method none when empty, and a licence's metric per_install.
func normalize(d *Details) {
	d.AssetTag = Identifier(d.AssetTag)
	d.SerialNumber = Identifier(d.SerialNumber)
	d.Manufacturer = strings.TrimSpace(d.Manufacturer)
	d.Model = strings.TrimSpace(d.Model)
	d.Currency = strings.ToUpper(strings.TrimSpace(d.Currency))
	if d.Currency == "" {
		d.Currency = defaultCurr
	}
	d.PurchaseDate = strings.TrimSpace(d.PurchaseDate)
	d.WarrantyEnd = strings.TrimSpace(d.WarrantyEnd)
	d.ContractRef = strings.TrimSpace(d.ContractRef)
	d.Supplier = strings.TrimSpace(d.Supplier)
	d.Product = ProductKey(d.Product)
	if d.Depreciation == "" {
		d.Depreciation = NoDepreciation
	}
	if d.Kind == Licence && d.LicenceMetric == "" {
		d.LicenceMetric = PerInstall
	}
}

// validateDetails checks an asset's own fields (normalised first), naming each
// offending field as body.<name>.
func validateDetails(d Details) error {
	var f fieldErrs
	if !slices.Contains(Kinds, d.Kind) {
		f.add("body.kind", "one of hardware, software, licence, facility", string(d.Kind))
	}
	if len(d.AssetTag) > maxTag || (d.AssetTag != "" && !tagPattern.MatchString(d.AssetTag)) {
		f.add("body.assetTag", fmt.Sprintf("up to %d letters, digits and . _ / -, starting with a letter or digit", maxTag), d.AssetTag)
	}
	f.text("body.serialNumber", d.SerialNumber, maxSerial)
	f.text("body.manufacturer", d.Manufacturer, maxShort)
	f.text("body.model", d.Model, maxShort)
	f.text("body.contractRef", d.ContractRef, maxShort)
	f.text("body.supplier", d.Supplier, maxShort)
	for _, id := range []struct {
		loc string
		v   int64
	}{{"body.ciId", d.CIID}, {"body.assignedUserId", d.AssignedUserID}, {"body.locationCiId", d.LocationCIID}} {
		if id.v < 0 {
			f.add(id.loc, "an id, or 0 for none", id.v)
		}
	}
	if d.CostMinor < 0 || d.CostMinor > maxMoney {
		f.add("body.costMinor", "an amount in minor units (cents) from 0 to 10^15", d.CostMinor)
	}
	if !currencyPattern.MatchString(d.Currency) {
		f.add("body.currency", "an ISO 4217 currency code, such as USD or EUR", d.Currency)
	}
	if d.PurchaseDate != "" {
		if _, ok := parseDate(d.PurchaseDate); !ok {
			f.add("body.purchaseDate", "a date as YYYY-MM-DD", d.PurchaseDate)
		}
	}
	if d.WarrantyEnd != "" {
		if _, ok := parseDate(d.WarrantyEnd); !ok {
			f.add("body.warrantyEnd", "a date as YYYY-MM-DD", d.WarrantyEnd)
		}
	}
	if !slices.Contains(Methods, d.Depreciation) {
		f.add("body.depreciationMethod", "one of straight_line, declining_balance, none", string(d.Depreciation))
	}
	if d.UsefulLifeMonths < 0 || d.UsefulLifeMonths > maxLife {
		f.add("body.usefulLifeMonths", fmt.Sprintf("0 to %d months", maxLife), d.UsefulLifeMonths)
	}
	if d.SalvageMinor < 0 || d.SalvageMinor > d.CostMinor {
		f.add("body.salvageMinor", "from 0 to the cost, in minor units", d.SalvageMinor)
	}
	if d.Depreciation == StraightLine || d.Depreciation == DecliningBalance {
		if d.UsefulLifeMonths < 1 {
			f.add("body.usefulLifeMonths", "a depreciating asset needs its useful life in months", d.UsefulLifeMonths)
		}
		if d.PurchaseDate == "" {
			f.add("body.purchaseDate", "a depreciating asset needs its purchase date", nil)
		}
	}
	f.text("body.product", d.Product, maxProduct)
	switch d.Kind {
	case Licence:
		if d.Product == "" {
			f.add("body.product", "a licence names the product it licenses", nil)
		}
		if d.Entitlements < 1 || d.Entitlements > maxSeats {
			f.add("body.entitlements", fmt.Sprintf("a licence grants 1 to %d seats", maxSeats), d.Entitlements)
		}
		if !slices.Contains(Metrics, d.LicenceMetric) {
			f.add("body.licenceMetric", "per_install or per_user", string(d.LicenceMetric))
		}
	default:
		if d.Product != "" && d.Kind != Software {
			f.add("body.product", "only software and licence assets name a product", d.Product)
		}
		if d.Entitlements != 0 {
			f.add("body.entitlements", "only a licence has entitlements", d.Entitlements)
		}
		if d.LicenceMetric != "" {
			f.add("body.licenceMetric", "only a licence has a licence metric", string(d.LicenceMetric))
		}
	}
	return f.err()
}

// defaultTitle names an asset that was given no title: its manufacturer and
// model (or product, or kind) and its tag or serial number.
func defaultTitle(d Details) string {
	name := strings.TrimSpace(d.Manufacturer + " " + d.Model)
	if name == "" {
		name = d.Product
	}
	if name == "" {
		name = string(d.Kind)
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
	}
	switch {
	case d.AssetTag != "":
		name += " (" + d.AssetTag + ")"
	case d.SerialNumber != "":
		name += " (S/N " + d.SerialNumber + ")"
	}
	if utf8.RuneCountInString(name) > maxShort {
		name = string([]rune(name)[:maxShort])
	}
	return strings.TrimSpace(name)
}

// validateDisposal checks a disposal record and normalises its text.
func validateDisposal(d *Disposal) error {
	var f fieldErrs
	if !slices.Contains(DisposalMethods, d.Method) {
		f.add("body.method", "one of resale, donation, recycling, destruction, return_to_vendor", string(d.Method))
	}
	d.Date = strings.TrimSpace(d.Date)
	if _, ok := parseDate(d.Date); !ok {
		f.add("body.date", "the disposal date as YYYY-MM-DD", d.Date)
	}
	d.CertificateRef = strings.TrimSpace(d.CertificateRef)
	if d.CertificateRef == "" {
		f.add("body.certificateRef", "the disposal certificate's reference is required", nil)
	}
	f.text("body.certificateRef", d.CertificateRef, maxShort)
	f.text("body.notes", d.Notes, maxNotes)
	return f.err()
}

// monthsBetween counts the whole months from a to b; 0 when b is not after a.
func monthsBetween(a, b time.Time) int64 {
	if !b.After(a) {
		return 0
	}
	m := int64(b.Year()-a.Year())*12 + int64(b.Month()-a.Month())
	if b.Day() < a.Day() {
		m--
	}
	return max(m, 0)
}

// BookValue is the value of an asset on day today, in minor units, after
// depreciation by whole months since its purchase date:
//
//   - none: the cost;
//   - straight_line: the cost less (cost − salvage) × months ÷ life;
//   - declining_balance: each month takes 2 ÷ life of the opening book value
//     (double-declining balance), or, once it takes more, the straight line of
//     what is left over the months that are left; never below salvage.
//
// From the end of the useful life on, the value is the salvage value. Each
// month's depreciation is rounded to the nearest minor unit.
func BookValue(d Details, today time.Time) int64 {
	bought, ok := parseDate(d.PurchaseDate)
	life := d.UsefulLifeMonths
	if d.Depreciation == NoDepreciation || d.Depreciation == "" || !ok || life < 1 {
		return d.CostMinor
	}
	cost, salvage := d.CostMinor, min(d.SalvageMinor, d.CostMinor)
	months := min(monthsBetween(bought, today), life)
	switch d.Depreciation {
	case StraightLine:
		base := cost - salvage
		return cost - (base*months*2+life)/(2*life)
	case DecliningBalance:
		bv := cost
		for m := int64(0); m < months; m++ {
			left := life - m
			ddb := (bv*2*2 + life) / (2 * life)
			sl := ((bv-salvage)*2 + left) / (2 * left)
			dep := max(ddb, sl)
			if bv-dep < salvage {
				dep = bv - salvage
			}
			bv -= dep
		}
		return bv
	}
	return cost
}

// underWarranty reports whether a warranty ending on end (YYYY-MM-DD) still covers day today.
func underWarranty(end string, today time.Time) bool {
	t, ok := parseDate(end)
	if !ok {
		return false
	}
	y, m, d := today.Date()
	return !t.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// countsForEntitlement reports whether a licence in state counts towards its product's entitlements.
func countsForEntitlement(state string) bool {
	return state != Retired && state != Disposed && state != Missing
}

// licenceLine is one licence asset as the compliance report sees it.
type licenceLine struct {
	Product string
	Seats   int64
	Metric  Metric
	State   string
}

// installLine is one installation as the compliance report sees it.
type installLine struct {
	Product string
	// UserID is the host asset's assigned user, or 0 when unknown.
	UserID int64
}

// installTally is one product's installations, counted: how many, how many
// on hosts with no assigned user, and how many distinct users.
type installTally struct {
	Product               string
	Installs, Anon, Users int64
}

// tallyInstalls counts installation lines per product, as the store's GROUP BY does.
func tallyInstalls(lines []installLine) []installTally {
	by := map[string]*installTally{}
	users := map[string]map[int64]bool{}
	var order []string
	for _, l := range lines {
		t, ok := by[l.Product]
		if !ok {
			t = &installTally{Product: l.Product}
			by[l.Product], users[l.Product] = t, map[int64]bool{}
			order = append(order, l.Product)
		}
		t.Installs++
		if l.UserID == 0 {
			t.Anon++
		} else if !users[l.Product][l.UserID] {
			users[l.Product][l.UserID] = true
			t.Users++
		}
	}
	out := make([]installTally, 0, len(order))
	for _, p := range order {
		out = append(out, *by[p])
	}
	return out
}

// LicenceComplianceReport sets each product's entitlements (the seats of its licences
// that are not retired, disposed or missing) against its consumption: its
// installations, or for a product whose licences are all per_user, the
// distinct users of its host assets (an installation whose host has no user
// counts as one). More consumption than entitlements is under-licensed by the
// shortfall; less is over-licensed by the surplus. Rows are sorted by product.
func complianceReport(licences []licenceLine, installs []installTally) []LicencePosition {
	type acc struct {
		row     LicencePosition
		perUser bool
		users   int64
		anon    int64
	}
	by := map[string]*acc{}
	get := func(p string) *acc {
		a, ok := by[p]
		if !ok {
			a = &acc{row: LicencePosition{Product: p}, perUser: true}
			by[p] = a
		}
		return a
	}
	for _, l := range licences {
		a := get(l.Product)
		if l.Metric != PerUser {
			a.perUser = false
		}
		if countsForEntitlement(l.State) {
			a.row.Entitlements += l.Seats
			a.row.Licences++
		}
	}
	for _, in := range installs {
		a := get(in.Product)
		a.row.Installations += in.Installs
		a.anon += in.Anon
		a.users += in.Users
	}
	out := make([]LicencePosition, 0, len(by))
	for _, a := range by {
		r := a.row
		// A product without any licence counts installations.
		hasLicence := slices.ContainsFunc(licences, func(l licenceLine) bool { return l.Product == r.Product })
		if a.perUser && hasLicence {
			r.Metric, r.Consumption = PerUser, a.users+a.anon
		} else {
			r.Metric, r.Consumption = PerInstall, r.Installations
		}
		switch {
		case r.Consumption > r.Entitlements:
			r.Status, r.Shortfall = UnderLicensed, r.Consumption-r.Entitlements
		case r.Consumption < r.Entitlements:
			r.Status, r.Surplus = OverLicensed, r.Entitlements-r.Consumption
		default:
			r.Status = Compliant
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b LicencePosition) int { return strings.Compare(a.Product, b.Product) })
	return out
}

// auditAsset is one asset as an inventory audit sees it.
type auditAsset struct {
	ID           int64
	Number       string
	Tag          string
	Serial       string
	Kind         Kind
	State        string
	LocationCIID int64
}

// seenStates are the states in which an observed asset is where it should be;
// expectedStates those in which an asset recorded at a location must be seen
// there (an asset in repair may be away with the repairer).
var (
	seenStates     = []string{Received, InStorage, Deployed, InRepair, Retired}
	expectedStates = []string{Received, InStorage, Deployed, Retired}
)

// observedIDs trims, upper-cases and de-duplicates observed tags and serial numbers, keeping their order.
func observedIDs(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = Identifier(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// reconcile compares what an inventory audit observed at location (0: anywhere)
// with the assets that could be there: every asset whose tag or serial number
// was observed, and every asset recorded at the location. An observed tag (or,
// failing that, serial number) of an asset recorded there in a state it may be
// seen in is found; one recorded elsewhere, in another state (ordered, missing,
// disposed) or unknown is unexpected; a physical asset recorded there that
// should be seen but was not is missing. Rows come in the order observed, the
// missing ones last, by number.
func reconcile(location int64, observed []string, assets []auditAsset) []InventoryItem {
	byTag := map[string]*auditAsset{}
	bySerial := map[string][]*auditAsset{}
	for i := range assets {
		a := &assets[i]
		if a.Tag != "" {
			byTag[a.Tag] = a
		}
		if a.Serial != "" {
			bySerial[a.Serial] = append(bySerial[a.Serial], a)
		}
	}
	var out []InventoryItem
	seen := map[int64]bool{}
	for _, id := range observedIDs(observed) {
		a := byTag[id]
		if a == nil {
			switch ms := bySerial[id]; len(ms) {
			case 0:
				out = append(out, InventoryItem{Result: Unexpected, Observed: id, Reason: "no asset has this tag or serial number"})
				continue
			case 1:
				a = ms[0]
			default:
				nums := make([]string, len(ms))
				for i, m := range ms {
					nums[i] = m.Number
				}
				out = append(out, InventoryItem{Result: Unexpected, Observed: id,
					Reason: "the serial number of several assets (" + strings.Join(nums, ", ") + "); observe their tags"})
				continue
			}
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		it := InventoryItem{Observed: id, Asset: a.Number, AssetTag: a.Tag, SerialNumber: a.Serial, State: a.State,
			RecordedLocationCIID: a.LocationCIID, assetID: a.ID}
		switch {
		case !slices.Contains(seenStates, a.State):
			it.Result, it.Reason = Unexpected, "recorded as "+strings.ReplaceAll(a.State, "_", " ")
		case location != 0 && a.LocationCIID != location:
			it.Result = Unexpected
			if a.LocationCIID == 0 {
				it.Reason = "recorded with no location"
			} else {
				it.Reason = fmt.Sprintf("recorded at another location (CI %d)", a.LocationCIID)
			}
		default:
			it.Result = Found
		}
		out = append(out, it)
	}
	var missing []InventoryItem
	for _, a := range assets {
		if seen[a.ID] || !a.Kind.Physical() || !slices.Contains(expectedStates, a.State) || (location != 0 && a.LocationCIID != location) {
			continue
		}
		reason := "recorded " + strings.ReplaceAll(a.State, "_", " ") + " here but not observed"
		if location == 0 {
			reason = "recorded " + strings.ReplaceAll(a.State, "_", " ") + " but not observed"
		}
		missing = append(missing, InventoryItem{Result: NotObserved, Asset: a.Number, AssetTag: a.Tag, SerialNumber: a.Serial,
			State: a.State, RecordedLocationCIID: a.LocationCIID, Reason: reason, assetID: a.ID})
	}
	slices.SortFunc(missing, func(x, y InventoryItem) int { return strings.Compare(x.Asset, y.Asset) })
	return append(out, missing...)
}

// tally counts an audit's rows by result.
func tally(a *InventoryAudit) {
	a.Found, a.Missing, a.Unexpected = 0, 0, 0
	for _, it := range a.Items {
		switch it.Result {
		case Found:
			a.Found++
		case NotObserved:
			a.Missing++
		case Unexpected:
			a.Unexpected++
		}
	}
}
