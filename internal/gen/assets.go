package gen

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
)

// The asset generator writes the asset register of Asset Management (DESMF
// §9.3.2, internal/transition/asset) as the services would have written it
// over the two generated years: assets as work records of type "asset"
// (AST0000001 …, process AM) with their own rows, software installations,
// licences, disposal records, and a few past inventory audits with the
// remediation tasks (AREM…) they opened.
//
// The register follows the organisation (see AssetPlan): one end-user device
// per user (laptops, desktops, monitors, phones, tablets, printers), one
// hardware asset per physical server and network device of the CMDB (linked
// to the CI by ci_id, with its serial number and asset tag, at the location CI
// the CI is located at), storage, facilities at the sites, capitalised
// software, and licences of a catalogue of commercial products. Without a
// CMDB (a database that was only migrated) the same assets are written
// without CI links and locations.
//
// Every asset's life is a path through the kernel's states, performed by the
// AM analysts (R for AM2–AM6) and managers (A): recorded (ordered), received,
// put in storage, deployed (after its assignment to a user or its location was
// set, an AM3 change), some repaired, returned, lost, retired and disposed of
// (with the disposal record). Assets bought before the generated years came
// with the initial load of the register in its first two months. The final
// states mix like a real register: about eight in ten deployed, the rest in
// storage, in repair, ordered, received, retired, disposed of or missing.
// Assets of the CMDB follow their CI's status (operational: deployed,
// maintenance: in repair, retired, disposed, build and test: in storage,
// planned and ordered: ordered).
//
// Software installations are discovered on the computers and servers while
// they were deployed, and on some virtual servers of the CMDB (by host CI
// only); each host has a few products drawn from a Zipf law, so that a few
// products are everywhere and most are rare. The licences are then bought
// against that consumption, exactly as the compliance report counts it
// (installations, or distinct users for a per-user product; none on a
// disposed host), so that the report shows compliant, under-licensed (among
// them products without any licence) and over-licensed products (among them
// shelfware without installations); some products also have an expired
// (retired) licence that no longer counts.
//
// The inventory audits (a few per year at the larger sites) reconcile what was
// seen against what the records said at the time: most assets are found; a
// few were not observed, are reported missing by the audit (AM4) and get a
// remediation task (AM5), after which some are found again (the task is
// resolved with the found step), some retired, and some stay missing; a few
// observations are unexpected (an asset recorded elsewhere, an unknown tag),
// each with its remediation task. The remediation tasks are linked to their
// assets, as RunAudit links them.

// AssetPlan is the size of the generated asset register at scale N: about
// 0.28 N assets (about one asset per 3.6 CIs of the CMDB, which has N).
type AssetPlan struct {
	// EndUser are the end-user devices: N/10, one per user on average.
	EndUser int
	// Servers are the physical servers: N×14/100, one per server CI of the CMDB (CMDBPlan.Servers).
	Servers int
	// Network are the network devices: N×3/100, linked to the CMDB's network devices while there are enough.
	Network int
	// Storage are storage arrays and tape libraries (not in the CMDB): N/1,000.
	Storage int
	// Facilities are power, cooling and racks at the sites: N/500.
	Facilities int
	// Software are capitalised software assets: N/2,000.
	Software int
	// Products are the commercial software products installed and licensed:
	// N/1,000, at least 12, at most the catalogue's size. Licences follow from
	// them (one to three per licensed product, plus expired ones).
	Products int
}

// AssetPlanFor derives the asset register of scale n.
func AssetPlanFor(n int) AssetPlan {
	return AssetPlan{EndUser: max(20, n/10), Servers: max(5, n*14/100), Network: max(2, n*3/100), Storage: max(1, n/1000),
		Facilities: max(2, n/500), Software: max(2, n/2000), Products: min(len(amProducts()), max(12, n/1000))}
}

// amMinute and amHour are spans in milliseconds.
const (
	amMinute int64 = 60_000
	amHour   int64 = 60 * amMinute
)

// amCategory is a kind of asset the register holds, with its models.
type amCategory struct {
	label  string
	kind   asset.Kind
	models []amModel
	// life is the useful life in months (0: not depreciated); method the depreciation.
	life     [2]int64
	method   asset.Method
	warranty []int64 // months, one drawn
	supplier []string
	// user: deployed to a person; otherwise to a location (or a custodian when there are no sites).
	user bool
	// computer: software is installed on it.
	computer bool
}

// amModel is a maker's model with its price range in dollars and its serial number prefix.
type amModel struct {
	maker, model, serial string
	lo, hi               int64
}

func amCategories() []amCategory {
	endUser := []string{"CDW Government", "SHI International", "Insight Public Sector", "Dell Technologies",
		"Connection Public Sector Solutions"}
	dc := []string{"Dell Technologies", "Hewlett Packard Enterprise", "World Wide Technology", "Carahsoft Technology", "Presidio"}
	return []amCategory{
		{label: "Laptop", kind: asset.Hardware, user: true, computer: true, life: [2]int64{36, 48}, method: asset.StraightLine,
			warranty: []int64{36}, supplier: endUser, models: []amModel{
				{"Dell", "Latitude 7440", "", 1450, 1900}, {"Dell", "Latitude 5540", "", 1000, 1350},
				{"Lenovo", "ThinkPad T14 Gen 4", "PF", 1200, 1600}, {"Lenovo", "ThinkPad X1 Carbon Gen 11", "PF", 1800, 2400},
				{"HP", "EliteBook 840 G10", "5CG", 1300, 1700}, {"Apple", "MacBook Pro 14 (M3)", "C02", 1900, 2500},
				{"Microsoft", "Surface Laptop 5", "0F", 1100, 1500}}},
		{label: "Desktop", kind: asset.Hardware, user: true, computer: true, life: [2]int64{60, 60}, method: asset.StraightLine,
			warranty: []int64{36, 60}, supplier: endUser, models: []amModel{
				{"Dell", "OptiPlex 7010", "", 800, 1100}, {"HP", "EliteDesk 800 G9", "MXL", 850, 1150},
				{"Lenovo", "ThinkCentre M90q Gen 4", "MJ", 750, 1050}, {"Apple", "Mac mini (M2)", "C07", 600, 900}}},
		{label: "Monitor", kind: asset.Hardware, user: true, method: asset.NoDepreciation, warranty: []int64{36},
			supplier: endUser, models: []amModel{
				{"Dell", "P2423D", "CN0", 200, 280}, {"Dell", "U2723QE", "CN0", 450, 600}, {"HP", "E24 G5", "CNC", 170, 230},
				{"LG", "27UK850-W", "LG", 350, 450}}},
		{label: "Mobile phone", kind: asset.Hardware, user: true, life: [2]int64{24, 36}, method: asset.DecliningBalance,
			warranty: []int64{12}, supplier: []string{"Verizon Wireless", "AT&T Business", "T-Mobile for Government"}, models: []amModel{
				{"Apple", "iPhone 15", "F2L", 700, 900}, {"Samsung", "Galaxy S23", "R5C", 650, 850}, {"Google", "Pixel 8", "3A", 600, 750}}},
		{label: "Tablet", kind: asset.Hardware, user: true, life: [2]int64{36, 36}, method: asset.StraightLine, warranty: []int64{12},
			supplier: endUser, models: []amModel{
				{"Apple", "iPad Air (M1)", "DMP", 550, 700}, {"Microsoft", "Surface Pro 9", "0F", 1000, 1400},
				{"Samsung", "Galaxy Tab S9", "R52", 700, 900}}},
		{label: "Printer", kind: asset.Hardware, life: [2]int64{60, 60}, method: asset.StraightLine, warranty: []int64{12},
			supplier: endUser, models: []amModel{
				{"HP", "LaserJet Enterprise M611dn", "PHB", 900, 1200}, {"Lexmark", "MX822ade", "7564", 2500, 3200},
				{"Xerox", "VersaLink C7025", "3390", 3500, 4500}}},
		// Data centre: physical servers, network devices and storage (5: servers, 6: network, 7: storage).
		{label: "Physical server", kind: asset.Hardware, computer: true, life: [2]int64{60, 60}, method: asset.StraightLine,
			warranty: []int64{36, 60}, supplier: dc, models: []amModel{
				{"Dell", "PowerEdge R750", "", 9000, 25000}, {"HPE", "ProLiant DL380 Gen11", "CZ", 10000, 28000},
				{"Lenovo", "ThinkSystem SR650", "J", 8000, 22000}, {"Cisco", "UCS C240 M5", "FCH", 9000, 24000}}},
		{label: "Network device", kind: asset.Hardware, life: [2]int64{60, 84}, method: asset.StraightLine, warranty: []int64{36, 60},
			supplier: dc, models: []amModel{
				{"Cisco", "Catalyst 9300", "FOC", 6000, 12000}, {"Juniper", "MX204", "JN", 20000, 35000},
				{"Palo Alto Networks", "PA-5220", "PA", 60000, 90000}, {"Cisco", "Catalyst 9120AX", "FJC", 900, 1300}}},
		{label: "Storage system", kind: asset.Hardware, life: [2]int64{60, 60}, method: asset.DecliningBalance, warranty: []int64{36, 60},
			supplier: dc, models: []amModel{
				{"NetApp", "AFF A400", "NA", 120000, 250000}, {"Dell", "PowerStore 1200T", "PS", 90000, 180000},
				{"Pure Storage", "FlashArray//X20", "PCT", 150000, 300000}, {"IBM", "TS4300 Tape Library", "78", 25000, 45000}}},
		// Facilities (8).
		{label: "Facility equipment", kind: asset.Facility, life: [2]int64{120, 180}, method: asset.StraightLine,
			warranty: []int64{24, 36, 60}, supplier: []string{"Eaton Corporation", "Vertiv", "Schneider Electric", "Caterpillar", "Graybar"},
			models: []amModel{
				{"Eaton", "93PM UPS 150 kW", "EA", 30000, 60000}, {"Schneider Electric", "Galaxy VS UPS 100 kW", "SE", 25000, 50000},
				{"Caterpillar", "C15 diesel generator 500 kW", "CAT", 150000, 250000}, {"Vertiv", "Liebert CRV cooling unit", "VL", 20000, 40000},
				{"APC", "NetShelter SX 42U rack", "AP", 1500, 2500}, {"Vertiv", "Geist rack PDU", "GE", 800, 1500}}},
		// Capitalised software (9).
		{label: "Capitalised software", kind: asset.Software, user: true, life: [2]int64{60, 60}, method: asset.StraightLine,
			supplier: []string{"Carahsoft Technology", "Accenture Federal Services", "Deloitte Consulting", "Booz Allen Hamilton"},
			models: []amModel{
				{"SAP", "S/4HANA 2022", "", 500000, 2000000}, {"Oracle", "E-Business Suite 12.2", "", 300000, 1200000},
				{"Microsoft", "Dynamics 365 Finance", "", 150000, 600000}, {"Esri", "ArcGIS Enterprise 11", "", 80000, 250000},
				{"IBM", "Maximo Application Suite 8", "", 200000, 700000}, {"In-house", "Case Management System 3", "", 400000, 1500000},
				{"Siemens", "Teamcenter 14", "", 250000, 900000}, {"OpenText", "Documentum 23", "", 150000, 500000}}},
	}
}

// The category indexes the generator refers to.
const (
	amLaptop = iota
	amDesktop
	amMonitor
	amPhone
	amTablet
	amPrinter
	amServer
	amNetwork
	amStorage
	amFacility
	amSoftware
)

// amProduct is a commercial software product: installed on desktops or on servers, licensed per install or per user.
type amProduct struct {
	vendor, name, version string
	server, perUser       bool
	price                 int64 // dollars per seat
}

// key is the product's normalised key, as the services store it.
func (p amProduct) key() string { return asset.ProductKey(p.vendor + " " + p.name) }

// amProducts is the product catalogue, in no particular order of popularity.
func amProducts() []amProduct {
	return []amProduct{
		{"Microsoft", "Office LTSC Professional Plus 2021", "16.0", false, false, 440},
		{"Microsoft", "Office Professional Plus 2019", "16.0", false, false, 400},
		{"Microsoft", "Visio Professional 2021", "16.0", false, false, 580},
		{"Microsoft", "Visio Professional 2019", "16.0", false, false, 530},
		{"Microsoft", "Project Professional 2021", "16.0", false, false, 1130},
		{"Microsoft", "Project Professional 2019", "16.0", false, false, 1030},
		{"Microsoft", "Visual Studio Professional 2022", "17.8", false, true, 500},
		{"Adobe", "Acrobat Pro 2020", "20.5", false, false, 450},
		{"Adobe", "Acrobat Pro DC", "23.8", false, true, 240},
		{"Adobe", "Creative Cloud All Apps", "6.1", false, true, 1000},
		{"Adobe", "Photoshop 2024", "25.4", false, true, 300},
		{"Autodesk", "AutoCAD 2024", "24.3", false, true, 2000},
		{"Autodesk", "AutoCAD 2023", "24.2", false, true, 1900},
		{"Autodesk", "Revit 2024", "24.2", false, true, 2800},
		{"TechSmith", "Snagit 2023", "23.2", false, false, 63},
		{"TechSmith", "Camtasia 2023", "23.4", false, false, 300},
		{"Tableau", "Desktop 2023.3", "2023.3", false, true, 840},
		{"MathWorks", "MATLAB R2023b", "23.2", false, true, 2150},
		{"MathWorks", "MATLAB R2022b", "9.13", false, true, 2150},
		{"IBM", "SPSS Statistics 29", "29.0", false, true, 1300},
		{"Esri", "ArcGIS Pro 3.1", "3.1", false, true, 700},
		{"Minitab", "Minitab 21", "21.4", false, true, 1700},
		{"JetBrains", "IntelliJ IDEA Ultimate 2023", "2023.3", false, true, 600},
		{"Parallels", "Desktop 19 for Mac", "19.1", false, false, 100},
		{"VMware", "Workstation Pro 17", "17.5", false, false, 200},
		{"Corel", "WinZip 28 Enterprise", "28.0", false, false, 40},
		{"Nitro", "PDF Pro 14", "14.10", false, false, 180},
		{"ABBYY", "FineReader PDF 16", "16.0", false, false, 200},
		{"Corel", "CorelDRAW Graphics Suite 2023", "24.5", false, false, 550},
		{"Dassault Systemes", "SolidWorks 2023", "31.3", false, false, 4000},
		{"Bentley", "MicroStation 2023", "23.0", false, false, 3200},
		{"Wolfram", "Mathematica 13", "13.3", false, true, 1500},
		{"OriginLab", "Origin 2023", "10.0", false, false, 1100},
		{"Zoom", "Workplace Desktop Client", "5.16", false, true, 150},
		{"Cisco", "Webex Desktop App", "43.10", false, true, 140},
		{"Microsoft", "Windows Server 2022 Datacenter", "10.0.20348", true, false, 6200},
		{"Microsoft", "Windows Server 2019 Datacenter", "10.0.17763", true, false, 6100},
		{"Microsoft", "SQL Server 2022 Enterprise", "16.0", true, false, 15000},
		{"Microsoft", "SQL Server 2019 Standard", "15.0", true, false, 3900},
		{"Red Hat", "Enterprise Linux Server 9", "9.2", true, false, 1300},
		{"Red Hat", "Enterprise Linux Server 8", "8.8", true, false, 1300},
		{"Oracle", "Database 19c Enterprise Edition", "19.21", true, false, 47500},
		{"VMware", "vSphere 8 Enterprise Plus", "8.0.2", true, false, 4600},
		{"Veeam", "Backup and Replication 12", "12.0", true, false, 1400},
		{"Splunk", "Enterprise 9", "9.1", true, false, 2000},
		{"CrowdStrike", "Falcon Sensor", "7.05", true, false, 60},
		{"Trellix", "Endpoint Security 10.7", "10.7", true, false, 50},
		{"Tenable", "Nessus Agent 10", "10.4", true, false, 30},
		{"IBM", "WebSphere Application Server 9", "9.0.5", true, false, 8000},
		{"Red Hat", "JBoss Enterprise Application Platform 7", "7.4", true, false, 3000},
		{"Citrix", "Virtual Apps and Desktops 2203", "2203", true, false, 400},
		{"Commvault", "Complete Backup and Recovery 11", "11.32", true, false, 1500},
		{"Microsoft", "System Center 2022 Datacenter", "10.22", true, false, 3600},
		{"Elastic", "Elasticsearch Platinum 8", "8.11", true, false, 2500},
		{"SUSE", "Linux Enterprise Server 15", "15.5", true, false, 800},
		{"Broadcom", "Symantec Data Loss Prevention 16", "16.0", true, false, 200},
	}
}

// amStep is one thing that happened to a record after it was created: a
// kernel step (action), or an AM3 change of the assignment (action "").
type amStep struct {
	at     int64
	action string
	by     int
	note   string // a work note given with the step
	// A change: user -2 keeps the assigned user, -1 clears it, else sets this
	// user index; loc -1 keeps the location, 0 clears it, else sets this CI.
	user int
	loc  int64
}

// amAsset is one generated asset with its planned history.
type amAsset struct {
	seq      int
	cat      int
	kind     asset.Kind
	tag      string
	serial   string
	maker    string
	model    string
	ci       int64
	cost     int64 // cents
	bought   int64 // purchase date, ms at midnight
	method   asset.Method
	life     int64
	salvage  int64
	warranty int64 // ms at midnight, 0: none
	contract string
	supplier string
	product  string
	seats    int64
	metric   asset.Metric
	desc     string

	// assignee is whom a deploying change assigns it to (-1: nobody);
	// site is where a deploying change puts it (0: nowhere).
	assignee int
	site     int64
	// user and loc are what it was created with (user -1: nobody).
	user int
	loc  int64

	created int64
	by      int
	steps   []amStep
	closed  bool // no more steps fit before the epoch
	// disposal is the disposal record of a disposed asset.
	disposal *amDisposal
	// ciCreated is its CI's registration, 0 without one.
	ciCreated int64

	rec    *rec
	number string
}

// amDisposal is a disposal record.
type amDisposal struct {
	method asset.DisposalMethod
	on     int64
	cert   string
	notes  string
	by     int
	at     int64
}

// amRem is a remediation task an inventory audit opened.
type amRem struct {
	audit    *amAudit
	item     *amItem
	asset    *amAsset // nil for an unknown tag
	at       int64
	steps    []amStep
	rec      *rec
	reason   asset.AuditResult
	observed string
}

// amAudit is a past inventory audit.
type amAudit struct {
	id      int64
	site    *amSite
	at      int64
	by      int
	note    string
	items   []*amItem
	missing []*amItem
}

// amItem is one result row of an audit.
type amItem struct {
	result   asset.AuditResult
	observed string
	asset    *amAsset
	state    string
	recLoc   int64
	reason   string
	step     string
	rem      *amRem
}

// amSite is a location CI.
type amSite struct {
	id     int64
	name   string
	weight float64
}

// amCI is a physical CI of the CMDB that an asset may be.
type amCI struct {
	id                        int64
	status                    string
	maker, model, serial, tag string
	created                   int64
	site                      int64
}

// amInstall is a discovered software installation.
type amInstall struct {
	product, version string
	host             *amAsset
	hostCI           int64
	found, created   int64
	source           string
	by               int
}

// amGen generates one asset register.
type amGen struct {
	w    *World
	k    *kernel
	plan AssetPlan
	cats []amCategory
	h    *processHolders

	sites    []*amSite
	pickSite Discrete
	servers  []amCI
	network  []amCI
	vms      []amCI
	people   []int // enabled users

	assets   []*amAsset
	installs []*amInstall
	audits   []*amAudit
	rems     []*amRem
	products []amProduct

	tagSeq, serialSeq, poSeq, certSeq int64
	tags                              map[string]bool
	// auditBase is the last inventory audit id before the run.
	auditBase int64
}

// genAssets writes the asset register (see the comment at the top of this file).
func genAssets(ctx context.Context, w *World) error {
	h := w.holders[asset.Process]
	if h == nil || len(h.analysts) == 0 || len(h.managers) == 0 {
		return nil // no Asset Management in the model: nobody to record assets
	}
	k, err := newAssetKernel(w)
	if err != nil {
		return err
	}
	restore, err := bigCache(ctx, w.out.tx)
	if err != nil {
		return err
	}
	defer restore()
	g := &amGen{w: w, k: k, plan: AssetPlanFor(w.Plan.Scale), cats: amCategories(), h: h,
		tags: map[string]bool{}, serialSeq: 40_000_000}
	for i, u := range w.users {
		if !u.disabled {
			g.people = append(g.people, i)
		}
	}
	if err := g.readCMDB(ctx); err != nil {
		return err
	}
	if err := w.out.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM asset_audits`).Scan(&g.auditBase); err != nil {
		return fmt.Errorf("read the last audit id: %w", err)
	}
	g.build()
	g.install()
	g.inventory()
	g.license()
	return g.write(ctx)
}

// newAssetKernel reads the asset record types by registering them with a record kernel, as the application does.
func newAssetKernel(w *World) (*kernel, error) {
	c := clock.System{}
	rs := record.New(record.Deps{DB: w.out.tx.DB(), Model: w.Model})
	if _, err := asset.New(asset.Deps{DB: w.out.tx.DB(), Records: rs, Trail: audit.NewTrail(c), Events: outbox.New(c, nil)}); err != nil {
		return nil, err
	}
	k := &kernel{w: w, types: map[string]record.Type{}}
	for _, name := range []string{asset.AssetType, asset.RemediationType} {
		t, err := rs.Type(name)
		if err != nil {
			return nil, err
		}
		k.types[name] = t
	}
	return k, nil
}

// readCMDB reads the sites, physical servers, network devices and virtual
// servers the CMDB generator wrote in this run, with where they are located.
func (g *amGen) readCMDB(ctx context.Context) error {
	tx := g.w.out.tx
	located := map[int64]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT r.source_id, r.target_id FROM ci_relations r
		JOIN ci_relation_types t ON t.id = r.type_id JOIN cis l ON l.id = r.target_id JOIN ci_classes k ON k.id = l.class_id
		WHERE t.name = 'located_at' AND k.name = 'location' ORDER BY r.source_id, r.target_id`)
	if err != nil {
		return fmt.Errorf("read CI locations: %w", err)
	}
	for rows.Next() {
		var s, t int64
		if err := rows.Scan(&s, &t); err != nil {
			rows.Close()
			return err
		}
		if _, ok := located[s]; !ok {
			located[s] = t
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT c.id, k.name, c.name, c.status, c.attrs, c.created_at FROM cis c
		JOIN ci_classes k ON k.id = c.class_id
		WHERE k.name IN ('location', 'server', 'network_device', 'virtual_server') ORDER BY c.id`)
	if err != nil {
		return fmt.Errorf("read CIs: %w", err)
	}
	defer rows.Close()
	perSite := map[int64]int{}
	for rows.Next() {
		var c amCI
		var class, name, attrs string
		if err := rows.Scan(&c.id, &class, &name, &c.status, &attrs, &c.created); err != nil {
			return err
		}
		if class == "location" {
			g.sites = append(g.sites, &amSite{id: c.id, name: name})
			continue
		}
		var a map[string]any
		if err := json.Unmarshal([]byte(attrs), &a); err != nil {
			return fmt.Errorf("read the attributes of CI %d: %w", c.id, err)
		}
		str := func(k string) string { s, _ := a[k].(string); return s }
		c.maker, c.model, c.serial, c.tag = str("manufacturer"), str("model"), asset.Identifier(str("serial_number")), asset.Identifier(str("asset_tag"))
		c.site = located[c.id]
		perSite[c.site]++
		switch class {
		case "server":
			g.servers = append(g.servers, c)
		case "network_device":
			g.network = append(g.network, c)
		default:
			g.vms = append(g.vms, c)
		}
		// Our own tags continue the CMDB's ST0000001 series.
		if n, err := strconv.ParseInt(strings.TrimPrefix(c.tag, "ST"), 10, 64); err == nil && strings.HasPrefix(c.tag, "ST") {
			g.tagSeq = max(g.tagSeq, n)
		}
		if c.tag != "" {
			g.tags[c.tag] = true
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Larger sites (by their servers and devices) have more people and equipment.
	weights := make([]float64, len(g.sites))
	for i, s := range g.sites {
		s.weight = float64(perSite[s.id] + 5)
		weights[i] = s.weight
	}
	g.pickSite = NewDiscrete(weights)
	return nil
}

// span is a random span of lo to hi days, in ms.
func (g *amGen) span(lo, hi float64) int64 {
	return int64((lo + g.w.R.Float64()*(hi-lo)) * float64(day))
}

// minutes is a random span of lo to hi minutes, in ms.
func (g *amGen) minutes(lo, hi int64) int64 { return (lo + g.w.R.Int64N(hi-lo+1)) * amMinute }

func (g *amGen) analyst() int { return pick(g.w.R, g.h.analysts) }

// retirer is who retires or disposes: the manager (A) or an analyst (R).
func (g *amGen) retirer() int {
	if g.w.R.Float64() < 0.5 {
		return pick(g.w.R, g.h.managers)
	}
	return g.analyst()
}

func (g *amGen) person() int { return g.people[g.w.R.IntN(len(g.people))] }

// site draws a location CI, larger sites more often; 0 without a CMDB.
func (g *amGen) site() int64 {
	if len(g.sites) == 0 {
		return 0
	}
	return g.sites[g.pickSite.Sample(g.w.R)].id
}

// midnight is the start of the day of ms.
func midnight(ms int64) int64 { return ms - ms%day }

// addMonths is the date months after the date d (ms at midnight).
func addMonths(d int64, months int64) int64 {
	return time.UnixMilli(d).UTC().AddDate(0, int(months), 0).UnixMilli()
}

// newTag is the next unused asset tag of the ST series.
func (g *amGen) newTag() string {
	for {
		g.tagSeq++
		t := fmt.Sprintf("ST%07d", g.tagSeq)
		if !g.tags[t] {
			g.tags[t] = true
			return t
		}
	}
}

// newSerial is a unique serial number with a maker's prefix, from a space the CMDB's serial numbers do not reach.
func (g *amGen) newSerial(prefix string) string {
	g.serialSeq++
	v := (uint64(g.serialSeq) * 2654435761) % 78_364_164_096
	s := strings.ToUpper(strconv.FormatUint(v, 36))
	return prefix + strings.Repeat("0", 7-len(s)) + s
}

// po is the next purchase order reference of a year.
func (g *amGen) po(prefix string, at int64) string {
	g.poSeq++
	return fmt.Sprintf("%s-%d-%06d", prefix, time.UnixMilli(at).UTC().Year(), g.poSeq)
}

// The final states an asset's life is drawn towards, and their mixes.
const (
	fOrdered = iota
	fReceived
	fStock    // in storage, never deployed
	fDeployed // deployed, perhaps repaired once
	fRepair   // in repair now
	fReturned // deployed, then back in storage
	fRetired
	fDisposed
	fLost // reported missing by its user
	nFinal
)

var (
	amEndUserMix  = []float64{fOrdered: 2, fReceived: 1, fStock: 5, fDeployed: 72, fRepair: 2.5, fReturned: 5, fRetired: 4, fDisposed: 7, fLost: 1.5}
	amDCMix       = []float64{fOrdered: 2, fReceived: 1, fStock: 4, fDeployed: 80, fRepair: 2, fReturned: 1, fRetired: 4, fDisposed: 6}
	amFacilityMix = []float64{fDeployed: 90, fRepair: 3, fRetired: 4, fDisposed: 3}
	amSoftwareMix = []float64{fStock: 8, fDeployed: 85, fRetired: 7}
)

// finalOfCI is the final state of the asset of a CI in status.
func finalOfCI(status string) int {
	switch status {
	case "maintenance":
		return fRepair
	case "retired":
		return fRetired
	case "disposed":
		return fDisposed
	case "build", "test":
		return fStock
	case "planned", "ordered":
		return fOrdered
	}
	return fDeployed
}

// build lays out every asset but the licences with its history.
func (g *amGen) build() {
	r := g.w.R
	p := g.plan
	endUser := NewDiscrete([]float64{amLaptop: 42, amDesktop: 18, amMonitor: 20, amPhone: 13, amTablet: 4, amPrinter: 3})
	userMix, dcMix := NewDiscrete(amEndUserMix), NewDiscrete(amDCMix)
	for range p.EndUser {
		c := endUser.Sample(r)
		g.hardware(c, nil, userMix.Sample(r))
	}
	for i := range p.Servers {
		if i < len(g.servers) {
			g.hardware(amServer, &g.servers[i], finalOfCI(g.servers[i].status))
		} else {
			g.hardware(amServer, nil, dcMix.Sample(r))
		}
	}
	for i := range p.Network {
		if i < len(g.network) {
			g.hardware(amNetwork, &g.network[i], finalOfCI(g.network[i].status))
		} else {
			g.hardware(amNetwork, nil, dcMix.Sample(r))
		}
	}
	for range p.Storage {
		g.hardware(amStorage, nil, dcMix.Sample(r))
	}
	for range p.Facilities {
		g.hardware(amFacility, nil, NewDiscrete(amFacilityMix).Sample(r))
	}
	for range p.Software {
		g.hardware(amSoftware, nil, NewDiscrete(amSoftwareMix).Sample(r))
	}
}

// hardware lays out one asset of category c (the CI it is, or nil) aiming for final state f.
func (g *amGen) hardware(c int, ci *amCI, f int) {
	r := g.w.R
	cat := &g.cats[c]
	m := cat.models[r.IntN(len(cat.models))]
	a := &amAsset{seq: len(g.assets), cat: c, kind: cat.kind, maker: m.maker, model: m.model, method: cat.method,
		supplier: pick(r, cat.supplier), user: -1, assignee: -1}
	a.cost = (m.lo + r.Int64N(m.hi-m.lo+1)) * 100
	if cat.life[1] > 0 {
		a.life = cat.life[0] + r.Int64N(cat.life[1]-cat.life[0]+1)
		a.life -= a.life % 12
		a.salvage = a.cost * r.Int64N(11) / 100
	}
	if cat.kind == asset.Software {
		a.product = asset.ProductKey(m.maker + " " + m.model)
	} else {
		a.tag = g.newTag()
		a.serial = g.newSerial(m.serial)
	}
	if ci != nil {
		a.ci, a.ciCreated, a.loc = ci.id, ci.created, ci.site
		if ci.maker != "" {
			a.maker, a.model = ci.maker, ci.model
		}
		if ci.serial != "" {
			a.serial = ci.serial
		}
		if ci.tag != "" {
			g.tagSeq-- // give the drawn tag back: the CI's is the asset's
			delete(g.tags, a.tag)
			a.tag = ci.tag
		}
	}
	switch {
	case cat.user && cat.kind == asset.Software:
		a.assignee = pick(r, g.w.staff)
	case cat.user:
		a.assignee, a.site = g.person(), g.site()
	case a.loc == 0:
		a.loc = g.site()
		if a.loc == 0 {
			a.assignee = pick(r, g.w.staff) // a custodian, without sites
		}
	}
	g.assets = append(g.assets, a)
	g.life(a, f)
	a.desc = fmt.Sprintf("%s, bought from %s under %s.", cat.label, a.supplier, a.contract)
	if a.ci != 0 {
		a.desc = fmt.Sprintf("%s, bought from %s under %s. It is CI %d of the CMDB.", cat.label, a.supplier, a.contract, a.ci)
	}
}

// add appends a step unless an earlier one could not happen before the epoch; it reports whether it did.
func (a *amAsset) add(s amStep) bool {
	if a.closed || s.at >= EpochMillis-amMinute {
		a.closed = true
		return false
	}
	if s.action != "" {
		s.user, s.loc = -2, -1
	}
	a.steps = append(a.steps, s)
	return true
}

// last is the time of the last step, or the creation.
func (a *amAsset) last() int64 {
	if len(a.steps) == 0 {
		return a.created
	}
	return a.steps[len(a.steps)-1].at
}

// life draws the asset's history towards final state f: when it was bought and
// recorded, and the steps since.
func (g *amGen) life(a *amAsset, f int) {
	r := g.w.R
	start := EpochMillis - window
	var bought int64
	switch f {
	case fOrdered:
		a.created = EpochMillis - g.span(0.05, 40)
		a.bought, a.by = midnight(a.created), g.analyst()
		g.paperwork(a)
		return
	case fReceived:
		a.created = EpochMillis - g.span(25, 60)
		a.by = g.analyst()
		at := a.created + g.span(3, 20)
		a.bought = midnight(at)
		g.paperwork(a)
		a.add(amStep{at: at, action: "receive", by: g.analyst()})
		return
	case fStock:
		bought = EpochMillis - g.span(20, 300)
	case fRetired, fDisposed:
		bought = EpochMillis - window - g.span(200, 5*365)
	default:
		bought = EpochMillis - g.span(30, 5*365)
	}
	if a.ciCreated != 0 {
		// The CI was registered when the asset was installed.
		bought = max(a.ciCreated-g.span(5, 30), EpochMillis-7*365*day)
	}
	deploys := f != fStock
	pre := bought-20*day < start
	if pre {
		// Bought before the register's two years: recorded by its initial load in the first two months.
		a.created = start + g.span(0, 60)
		a.by = g.analyst()
		a.bought = midnight(bought)
		g.paperwork(a)
		t := a.created + g.minutes(5, 60)
		a.add(amStep{at: t, action: "receive", by: a.by})
		t += g.minutes(5, 60)
		a.add(amStep{at: t, action: "store", by: a.by})
		if deploys {
			g.deploy(a, t+g.minutes(5, 60), a.by)
		}
	} else {
		a.created = bought - g.span(3, 20)
		a.by = g.analyst()
		a.bought = midnight(bought)
		g.paperwork(a)
		t := bought + g.span(0, 0.4)
		a.add(amStep{at: t, action: "receive", by: g.analyst()})
		t += g.span(0.04, 0.25)
		a.add(amStep{at: t, action: "store", by: g.analyst()})
		if deploys {
			g.deploy(a, t+g.span(0.5, 21), g.analyst())
		}
	}
	switch f {
	case fDeployed:
		if r.Float64() < 0.12 {
			t := a.last() + g.span(30, 600)
			if t < EpochMillis-40*day {
				a.add(amStep{at: t, action: "repair", by: g.analyst()})
				a.add(amStep{at: t + g.span(3, 30), action: "deploy", by: g.analyst()})
			}
		}
	case fRepair:
		a.add(amStep{at: max(a.last()+g.span(1, 30), EpochMillis-g.span(1, 35)), action: "repair", by: g.analyst()})
	case fReturned:
		t := min(a.last()+g.span(60, 700), EpochMillis-g.span(1, 60))
		t = max(t, a.last()+g.span(1, 10))
		by := g.analyst()
		if a.assignee >= 0 && g.cats[a.cat].user {
			a.add(amStep{at: t, by: by, user: -1, loc: -1})
		}
		a.add(amStep{at: t + g.minutes(1, 30), action: "store", by: by})
	case fRetired, fDisposed:
		t := max(a.last()+g.span(30, 200), start+g.span(90, 400))
		if f == fDisposed {
			t = min(t, EpochMillis-g.span(20, 120))
		}
		t = max(t, a.last()+g.span(1, 10))
		a.add(amStep{at: t, action: "retire", by: g.retirer()})
		if f == fDisposed {
			by := g.retirer()
			at := t + g.span(14, 60)
			if a.add(amStep{at: at, action: "dispose", by: by}) {
				a.disposal = g.disposal(a, by, at)
			}
		}
	case fLost:
		t := max(a.last()+g.span(30, 500), EpochMillis-g.span(1, 400))
		a.add(amStep{at: t, action: "report_missing", by: g.analyst(), note: "Reported lost by its user; the loss report is on file."})
	}
}

// paperwork sets what the purchase gave: the warranty and the purchase order.
func (g *amGen) paperwork(a *amAsset) {
	cat := &g.cats[a.cat]
	if len(cat.warranty) > 0 {
		a.warranty = addMonths(a.bought, pick(g.w.R, cat.warranty))
	}
	a.contract = g.po("PO", a.bought)
}

// deploy sets the assignment (an AM3 change) when the asset goes to a person, then deploys it.
func (g *amGen) deploy(a *amAsset, at int64, by int) {
	if a.assignee >= 0 || a.site != 0 {
		s := amStep{at: at, by: by, user: -2, loc: -1}
		if a.assignee >= 0 {
			s.user = a.assignee
		}
		if a.site != 0 {
			s.loc = a.site
		}
		a.add(s)
		at += g.minutes(1, 30)
	}
	a.add(amStep{at: at, action: "deploy", by: by})
}

// disposal is the disposal record of a, disposed of by by at at.
func (g *amGen) disposal(a *amAsset, by int, at int64) *amDisposal {
	r := g.w.R
	methods := []asset.DisposalMethod{asset.Recycling, asset.Resale, asset.Donation, asset.Destruction, asset.ReturnToVendor}
	weights := []float64{40, 20, 15, 15, 10}
	if a.cat == amServer || a.cat == amStorage {
		weights = []float64{30, 10, 0, 50, 10} // media that held data is destroyed
	}
	m := methods[NewDiscrete(weights).Sample(r)]
	g.certSeq++
	d := &amDisposal{method: m, on: midnight(at) - g.span(0, 7)/day*day, by: by, at: at}
	year := time.UnixMilli(at).UTC().Year()
	switch m {
	case asset.Destruction:
		d.cert = fmt.Sprintf("COD-%d-%05d", year, g.certSeq)
		d.notes = "Storage media shredded on site; certificate of destruction from the vendor."
	case asset.Recycling:
		d.cert = fmt.Sprintf("RCY-%d-%05d", year, g.certSeq)
		d.notes = "Drives wiped to NIST SP 800-88 Purge before collection by an R2-certified recycler."
	case asset.Resale:
		d.cert = fmt.Sprintf("SAL-%d-%05d", year, g.certSeq)
		d.notes = "Sold through the surplus property programme after sanitisation."
	case asset.Donation:
		d.cert = fmt.Sprintf("DON-%d-%05d", year, g.certSeq)
		d.notes = "Donated to a school under the Computers for Learning programme."
	default:
		d.cert = fmt.Sprintf("RMA-%d-%05d", year, g.certSeq)
		d.notes = "Returned to the vendor at the end of the lease."
	}
	return d
}

// amState is where each action leads.
var amState = map[string]string{"receive": asset.Received, "store": asset.InStorage, "deploy": asset.Deployed,
	"repair": asset.InRepair, "retire": asset.Retired, "dispose": asset.Disposed, "report_missing": asset.Missing, "found": asset.InStorage}

// stateAt is the asset's state at t ("" before it was recorded).
func (a *amAsset) stateAt(t int64) string {
	if a.created > t {
		return ""
	}
	st := asset.Ordered
	for _, s := range a.steps {
		if s.at > t {
			break
		}
		if s.action != "" {
			st = amState[s.action]
		}
	}
	return st
}

// locAt is the location the records gave the asset at t.
func (a *amAsset) locAt(t int64) int64 {
	loc := a.loc
	for _, s := range a.steps {
		if s.at > t {
			break
		}
		if s.action == "" && s.loc >= 0 {
			loc = s.loc
		}
	}
	return loc
}

// final are the assigned user (-1: nobody) and location once every step happened.
func (a *amAsset) final() (int, int64) {
	u, loc := a.user, a.loc
	for _, s := range a.steps {
		if s.action != "" {
			continue
		}
		if s.user != -2 {
			u = s.user
		}
		if s.loc >= 0 {
			loc = s.loc
		}
	}
	return u, loc
}

// deployedSpan is from the asset's first deployment to when it left service (retired, disposed of, lost) or the epoch; ok is false if it never was deployed.
func (a *amAsset) deployedSpan() (from, to int64, ok bool) {
	to = EpochMillis - amHour
	for _, s := range a.steps {
		switch s.action {
		case "deploy":
			if !ok {
				from, ok = s.at, true
			}
		case "retire", "dispose", "report_missing":
			if ok {
				return from, min(to, s.at), from < s.at
			}
		}
	}
	return from, to, ok && from < to
}

// install discovers software on the computers and servers while they were
// deployed, and on a share of the CMDB's virtual servers.
func (g *amGen) install() {
	r := g.w.R
	all := amProducts()
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	g.products = all[:g.plan.Products]
	var desk, srv []int
	for i, p := range g.products {
		if p.server {
			srv = append(srv, i)
		} else {
			desk = append(desk, i)
		}
	}
	pickDesk, pickSrv := Zipf(len(desk), 1.0), Zipf(len(srv), 1.0)
	deskSources := []string{"Microsoft Configuration Manager", "Microsoft Configuration Manager", "Microsoft Intune", "Lansweeper"}
	srvSources := []string{"ServiceNow Discovery", "Tanium", "HCL BigFix"}
	discover := func(host *amAsset, hostCI int64, from, to int64, n int, server bool) {
		seen := map[int]bool{}
		for range n {
			var pi int
			switch {
			case server && len(srv) > 0:
				pi = srv[pickSrv.Sample(r)]
			case !server && len(desk) > 0:
				pi = desk[pickDesk.Sample(r)]
			default:
				return
			}
			if seen[pi] {
				continue
			}
			seen[pi] = true
			p := g.products[pi]
			found := from + r.Int64N(max(1, to-from))
			src := pick(r, deskSources)
			if server {
				src = pick(r, srvSources)
			}
			g.installs = append(g.installs, &amInstall{product: p.key(), version: fmt.Sprintf("%s.%d.%d", p.version, r.IntN(10), r.IntN(9000)),
				host: host, hostCI: hostCI, found: found, created: min(found+g.minutes(1, 120), EpochMillis-1), source: src, by: g.analyst()})
		}
	}
	for _, a := range g.assets {
		if !g.cats[a.cat].computer {
			continue
		}
		from, to, ok := a.deployedSpan()
		if !ok {
			continue
		}
		if a.cat == amServer {
			discover(a, a.ci, from, to, 1+Poisson(r, 1.5), true)
		} else {
			discover(a, 0, from, to, 1+Poisson(r, 3.5), false)
		}
	}
	for _, v := range g.vms {
		if v.status != "operational" || r.Float64() >= 0.3 {
			continue
		}
		from := max(v.created, EpochMillis-window)
		discover(nil, v.id, from, EpochMillis-amHour, 1+Poisson(r, 1), true)
	}
}

// inventory runs the past inventory audits at the sites: a few per year, the larger sites more often.
func (g *amGen) inventory() {
	if len(g.sites) == 0 {
		return
	}
	r := g.w.R
	n := min(12, max(2, len(g.sites)/4))
	physical := map[int64][]*amAsset{}
	var anywhere []*amAsset
	for _, a := range g.assets {
		if a.kind.Physical() {
			anywhere = append(anywhere, a)
			if _, loc := a.final(); loc != 0 {
				physical[loc] = append(physical[loc], a)
			}
		}
	}
	times := make([]int64, n)
	for i := range times {
		times[i] = EpochMillis - g.span(20, 540)
	}
	slices.Sort(times)
	unknown := 0
	for i, at := range times {
		s := g.sites[g.pickSite.Sample(r)]
		au := &amAudit{id: g.auditBase + int64(i) + 1, site: s, at: at + int64(i), by: g.analyst()}
		au.note = pick(r, []string{"Annual wall-to-wall inventory of ", "Quarterly spot check of ", "Inventory after the move of "}) + s.name + "."
		g.audits = append(g.audits, au)
		var found, unexpected []*amItem
		var victims []*amAsset
		for _, a := range physical[s.id] {
			st := a.stateAt(au.at)
			if a.locAt(au.at) != s.id || !slices.Contains([]string{asset.Received, asset.InStorage, asset.Deployed, asset.Retired}, st) {
				continue
			}
			if (st == asset.Deployed || st == asset.InStorage) && r.Float64() < 0.02 {
				victims = append(victims, a)
				continue
			}
			found = append(found, &amItem{result: asset.Found, observed: a.tag, asset: a, state: st, recLoc: s.id})
		}
		// Observed but recorded elsewhere.
		for range 1 + r.IntN(3) {
			a := anywhere[r.IntN(len(anywhere))]
			st := a.stateAt(au.at)
			loc := a.locAt(au.at)
			if loc == s.id || !slices.Contains([]string{asset.Received, asset.InStorage, asset.Deployed, asset.InRepair, asset.Retired}, st) ||
				slices.ContainsFunc(unexpected, func(it *amItem) bool { return it.asset == a }) {
				continue
			}
			reason := "recorded with no location"
			if loc != 0 {
				reason = fmt.Sprintf("recorded at another location (CI %d)", loc)
			}
			unexpected = append(unexpected, &amItem{result: asset.Unexpected, observed: a.tag, asset: a, state: st, recLoc: loc, reason: reason})
		}
		if r.Float64() < 0.5 {
			unknown++
			unexpected = append(unexpected, &amItem{result: asset.Unexpected, observed: fmt.Sprintf("TMP-%05d", unknown),
				reason: "no asset has this tag or serial number"})
		}
		au.items = append(found, unexpected...)
		r.Shuffle(len(au.items), func(i, j int) { au.items[i], au.items[j] = au.items[j], au.items[i] })
		// The missing rows come last, by number (creation order), each reported missing by the audit.
		slices.SortFunc(victims, func(x, y *amAsset) int { return cmp.Or(cmp.Compare(x.created, y.created), cmp.Compare(x.seq, y.seq)) })
		for _, a := range victims {
			st := a.stateAt(au.at)
			it := &amItem{result: asset.NotObserved, asset: a, state: st, recLoc: s.id, step: "Reported missing.",
				reason: "recorded " + strings.ReplaceAll(st, "_", " ") + " here but not observed"}
			au.missing = append(au.missing, it)
		}
		for _, it := range au.items {
			if it.result == asset.Unexpected {
				g.remediate(au, it)
			}
		}
		for _, it := range au.missing {
			g.lose(au, it)
			g.remediate(au, it)
		}
		au.items = append(au.items, au.missing...)
	}
}

// lose rewrites the history of an asset an audit did not observe: reported
// missing by the audit, then found again (which resolves its remediation
// task), retired while missing (the task closed), or still missing.
func (g *amGen) lose(au *amAudit, it *amItem) {
	a := it.asset
	keep := a.steps[:0:0]
	for _, s := range a.steps {
		if s.at < au.at {
			keep = append(keep, s)
		}
	}
	a.steps, a.closed, a.disposal = keep, false, nil
	a.add(amStep{at: au.at, action: "report_missing", by: au.by,
		note: fmt.Sprintf("Not observed %s in inventory audit %d.", au.where(), au.id)})
}

// remediate opens the remediation task of an audit row, and plans what became of it.
func (g *amGen) remediate(au *amAudit, it *amItem) {
	r := g.w.R
	m := &amRem{audit: au, item: it, asset: it.asset, at: au.at, reason: it.result, observed: it.observed}
	it.rem = m
	g.rems = append(g.rems, m)
	switch {
	case it.result == asset.Unexpected:
		if t := au.at + g.span(1, 30); r.Float64() < 0.8 {
			m.add(amStep{at: t, action: "resolve", by: g.analyst(),
				note: "Checked with the holder: the records are right and the asset was only visiting."})
		}
	case r.Float64() < 0.5:
		a, by, t := it.asset, g.analyst(), au.at+g.span(2, 45)
		if a.add(amStep{at: t, action: "found", by: by}) {
			m.add(amStep{at: t, action: "resolve", by: by})
			if r.Float64() < 0.6 {
				a.add(amStep{at: t + g.span(1, 10), action: "deploy", by: g.analyst()})
			}
		}
	case r.Float64() < 0.5:
		a, t := it.asset, au.at+g.span(30, 150)
		if a.add(amStep{at: t, action: "retire", by: pick(r, g.h.managers), note: "Not found after a search of the site; written off."}) {
			m.add(amStep{at: t + 2*amHour, action: "close", by: g.analyst()})
		}
	}
}

// add appends a step of a remediation task if it happens before the epoch.
func (m *amRem) add(s amStep) {
	if s.at < EpochMillis-amMinute {
		s.user, s.loc = -2, -1
		m.steps = append(m.steps, s)
	}
}

// consumption is what the compliance report will count for each product:
// installations, or for a per-user product the distinct users of the host
// assets (a host without a user counts once per installation); an
// installation on a disposed host no longer counts.
func (g *amGen) consumption() map[string]int64 {
	users := map[string]map[int]bool{}
	anon, installs := map[string]int64{}, map[string]int64{}
	for _, in := range g.installs {
		u := -1
		if in.host != nil {
			if in.host.stateAt(EpochMillis) == asset.Disposed {
				continue
			}
			u, _ = in.host.final()
		}
		installs[in.product]++
		if u < 0 {
			anon[in.product]++
		} else {
			if users[in.product] == nil {
				users[in.product] = map[int]bool{}
			}
			users[in.product][u] = true
		}
	}
	out := map[string]int64{}
	for _, p := range g.products {
		k := p.key()
		if p.perUser {
			out[k] = int64(len(users[k])) + anon[k]
		} else {
			out[k] = installs[k]
		}
	}
	return out
}

// license buys the licences against the consumption, so that the products are
// compliant, under-licensed (some without any licence) or over-licensed (some
// shelfware); some products also have an expired licence.
func (g *amGen) license() {
	r := g.w.R
	use := g.consumption()
	status := NewDiscrete([]float64{8, 30, 25, 37}) // unlicensed, compliant, under, over
	resellers := []string{"Carahsoft Technology", "SHI International", "Insight Public Sector", "Softchoice", "CDW Government"}
	custodian := pick(r, g.h.analysts)
	for _, p := range g.products {
		c := use[p.key()]
		var seats int64
		switch s := status.Sample(r); {
		case c == 0:
			seats = 5 + r.Int64N(46)
		case s == 0:
			seats = 0
		case s == 1:
			seats = c
		case s == 2:
			seats = max(0, c-max(1, int64(math.Round(float64(c)*(0.03+0.22*r.Float64())))))
		default:
			seats = c + max(1, int64(math.Round(float64(c)*(0.05+0.55*r.Float64()))))
		}
		metric := asset.PerInstall
		if p.perUser {
			metric = asset.PerUser
		}
		// Split the seats over one to three contracts.
		n := min(seats, int64(1+Poisson(r, 0.8)))
		cuts := []int64{0, seats}
		for int64(len(cuts)) < n+1 {
			if v := 1 + r.Int64N(max(1, seats-1)); !slices.Contains(cuts, v) {
				cuts = append(cuts, v)
			}
		}
		slices.Sort(cuts)
		for i := 1; i < len(cuts); i++ {
			g.licence(p, cuts[i]-cuts[i-1], metric, pick(r, resellers), custodian, false)
		}
		if r.Float64() < 0.3 {
			g.licence(p, 5+r.Int64N(200), metric, pick(r, resellers), custodian, true)
		}
	}
}

// licence records a licence of p for seats, in use (deployed, or in storage
// until it is allocated) or, when expired, retired at the end of its term.
func (g *amGen) licence(p amProduct, seats int64, metric asset.Metric, supplier string, custodian int, expired bool) {
	r := g.w.R
	a := &amAsset{seq: len(g.assets), cat: -1, kind: asset.Licence, maker: p.vendor, model: p.name, method: asset.NoDepreciation,
		supplier: supplier, product: p.key(), seats: seats, metric: metric, user: -1, assignee: custodian,
		cost: seats * p.price * 100 * (85 + r.Int64N(16)) / 100}
	g.assets = append(g.assets, a)
	var t int64
	if expired {
		a.created = EpochMillis - window + g.span(0, 60)
		a.bought = midnight(a.created - g.span(365, 3*365))
	} else {
		a.created = EpochMillis - g.span(30, 700)
		a.bought = midnight(a.created)
	}
	a.by = g.analyst()
	a.contract = g.po("SW", a.bought)
	a.desc = fmt.Sprintf("%d %s of %s %s, from %s under %s.", seats, strings.ReplaceAll(string(metric), "_", " ")+" seats",
		p.vendor, p.name, supplier, a.contract)
	t = a.created + g.minutes(10, 600)
	a.add(amStep{at: t, action: "receive", by: a.by})
	t += g.minutes(5, 60)
	a.add(amStep{at: t, action: "store", by: a.by})
	if expired || r.Float64() < 0.85 {
		g.deploy(a, t+g.span(0, 3), a.by)
	}
	if expired {
		end := addMonths(a.bought, 36)
		end = max(end, a.last()+g.span(1, 30))
		a.add(amStep{at: min(end, EpochMillis-g.span(1, 30)), action: "retire", by: g.retirer(),
			note: "The subscription term ended; the seats no longer count."})
	}
}

// amTitle names an asset as Service.Create does when no title is given.
func amTitle(a *amAsset) string {
	name := strings.TrimSpace(a.maker + " " + a.model)
	if name == "" {
		name = a.product
	}
	switch {
	case a.tag != "":
		name += " (" + a.tag + ")"
	case a.serial != "":
		name += " (S/N " + a.serial + ")"
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return strings.TrimSpace(name)
}

// cut shortens a title as RunAudit does.
func amCut(s string) string {
	if utf8.RuneCountInString(s) > 200 {
		return string([]rune(s)[:199]) + "…"
	}
	return s
}

// changed names the fields an assignment change changed, in the order the asset service audits them.
func (s amStep) changed() []string {
	var out []string
	if s.user != -2 {
		out = append(out, "assignedUserId")
	}
	if s.loc >= 0 {
		out = append(out, "locationCiId")
	}
	return out
}

// perform replays the planned steps of r through the kernel: states, versions and the journal in its words.
func (g *amGen) perform(r *rec, steps []amStep) error {
	for _, s := range steps {
		if s.action == "" {
			fields := s.changed()
			g.k.change(r, s.by, s.at, func() []string { return fields })
			continue
		}
		if s.note != "" {
			note := s.note
			r.journal = append(r.journal, &entry{at: s.at, kind: "work_note", author: s.by, text: func() string { return note },
				rec: r, seq: len(r.journal)})
		}
		if err := g.k.step(r, s.action, s.by, s.at); err != nil {
			return fmt.Errorf("%s: %w", r.title, err)
		}
	}
	return nil
}

// where names the audited place as RunAudit does.
func (au *amAudit) where() string { return "at " + au.site.name }

// write creates the records through the kernel, numbers them, and writes every row.
func (g *amGen) write(ctx context.Context) error {
	w := g.w
	for _, a := range g.assets {
		a.rec = g.k.create(asset.AssetType, asset.Process, amTitle(a), a.desc, "", a.by, a.created)
		if err := g.perform(a.rec, a.steps); err != nil {
			return err
		}
		a.rec.own = g.ownAsset(a)
	}
	// The asset numbers, as the kernel will give them: the type's counter in order of creation.
	counters, prefixes, err := g.k.readCounters(ctx)
	if err != nil {
		return err
	}
	prefix, ok := prefixes[asset.AssetType]
	if !ok {
		prefix = asset.AssetPrefix
	}
	order := slices.Clone(g.assets)
	slices.SortStableFunc(order, func(x, y *amAsset) int {
		return cmp.Or(cmp.Compare(x.created, y.created), cmp.Compare(x.rec.seq, y.rec.seq))
	})
	for i, a := range order {
		a.number = record.FormatNumber(prefix, counters[asset.AssetType]+int64(i)+1)
	}
	// The audits, then their remediation tasks in the order RunAudit opens them.
	for _, au := range g.audits {
		var found, missing, unexpected int64
		for _, it := range au.items {
			switch it.result {
			case asset.Found:
				found++
			case asset.NotObserved:
				missing++
			default:
				unexpected++
			}
		}
		if err := w.add("asset_audits", au.id, au.site.id, au.note, found+unexpected, found, missing, unexpected,
			w.users[au.by].id, au.at); err != nil {
			return err
		}
	}
	for _, m := range g.rems {
		if err := g.openRem(m); err != nil {
			return err
		}
	}
	if err := g.k.write(ctx); err != nil {
		return err
	}
	for _, a := range g.assets {
		if a.rec.number != a.number {
			return fmt.Errorf("asset numbering: %s was expected to be %s", a.rec.number, a.number)
		}
	}
	return g.writeAfter(ctx)
}

// ownAsset writes the asset's own row and its disposal record.
func (g *amGen) ownAsset(a *amAsset) func(r *rec) error {
	return func(r *rec) error {
		w := g.w
		u, loc := a.final()
		var uid int64
		if u >= 0 {
			uid = w.users[u].id
		}
		var tag any
		if a.tag != "" {
			tag = a.tag
		}
		if err := w.add("assets", r.id, string(a.kind), tag, a.serial, a.maker, a.model, db.NullID(a.ci), a.cost, "USD", a.bought,
			string(a.method), a.life, a.salvage, a.warranty, a.contract, a.supplier, db.NullID(uid), db.NullID(loc), a.product, a.seats,
			string(a.metric)); err != nil {
			return err
		}
		if d := a.disposal; d != nil {
			return w.add("asset_disposals", r.id, string(d.method), d.on, d.cert, d.notes, w.users[d.by].id, d.at, d.at)
		}
		return nil
	}
}

// openRem creates a remediation task as RunAudit does: logged, linked to its asset, and what became of it.
func (g *amGen) openRem(m *amRem) error {
	au, it := m.audit, m.item
	what := ""
	if m.asset != nil {
		what = m.asset.number + " (" + m.asset.tag + ")"
	}
	var title string
	switch {
	case it.result == asset.NotObserved:
		title = fmt.Sprintf("Locate missing asset %s: not observed %s", what, au.where())
	case m.asset == nil:
		title = fmt.Sprintf("Identify unknown asset %s observed %s", it.observed, au.where())
	default:
		title = fmt.Sprintf("Reconcile asset %s observed %s: %s", what, au.where(), it.reason)
	}
	desc := fmt.Sprintf("Inventory audit %d (%s) found this %s: %s.", au.id, au.where(), it.result, it.reason)
	if it.observed != "" {
		desc += " Observed: " + it.observed + "."
	}
	if it.step != "" {
		desc += " " + it.step
	}
	m.rec = g.k.create(asset.RemediationType, asset.Process, amCut(title), desc, "", au.by, m.at)
	m.rec.own = func(r *rec) error {
		var aid int64
		if m.asset != nil {
			aid = m.asset.rec.id
		}
		return g.w.add("asset_remediations", r.id, db.NullID(aid), au.id, string(m.reason), m.observed, au.site.id)
	}
	if m.asset != nil {
		rem, ast := m.rec, m.asset.rec
		text := func() string { return fmt.Sprintf("Linked: %s %s %s.", rem.number, record.RelatedTo, ast.number) }
		g.k.journal(rem, m.at, au.by, text)
		g.k.journal(ast, m.at, au.by, text)
	}
	return g.perform(m.rec, m.steps)
}

// writeAfter writes the rows that name record ids: the audit rows, the links and the installations.
func (g *amGen) writeAfter(ctx context.Context) error {
	w, tx := g.w, g.w.out.tx
	var itemBase, linkBase, installBase int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(id), 0) FROM asset_audit_items), (SELECT COALESCE(MAX(id), 0) FROM record_links),
		(SELECT COALESCE(MAX(id), 0) FROM asset_installations)`).Scan(&itemBase, &linkBase, &installBase); err != nil {
		return fmt.Errorf("read the last asset ids: %w", err)
	}
	for _, au := range g.audits {
		for _, it := range au.items {
			itemBase++
			var aid int64
			var rem string
			if it.asset != nil {
				aid = it.asset.rec.id
			}
			if it.rem != nil {
				rem = it.rem.rec.number
			}
			if err := w.add("asset_audit_items", itemBase, au.id, string(it.result), it.observed, db.NullID(aid), it.state, it.recLoc,
				it.reason, it.step, rem); err != nil {
				return err
			}
		}
	}
	for _, m := range g.rems {
		if m.asset == nil {
			continue
		}
		linkBase++
		from, to := min(m.rec.id, m.asset.rec.id), max(m.rec.id, m.asset.rec.id)
		if err := w.add("record_links", linkBase, from, to, string(record.RelatedTo), w.users[m.audit.by].id, m.at); err != nil {
			return err
		}
	}
	slices.SortStableFunc(g.installs, func(x, y *amInstall) int { return cmp.Compare(x.created, y.created) })
	for _, in := range g.installs {
		installBase++
		var host int64
		if in.host != nil {
			host = in.host.rec.id
		}
		if err := w.add("asset_installations", installBase, in.product, in.version, db.NullID(host), db.NullID(in.hostCI), in.found,
			in.source, w.users[in.by].id, in.created); err != nil {
			return err
		}
	}
	if err := w.out.flush(); err != nil {
		return err
	}
	if tx.Engine() == db.Postgres {
		for _, t := range []string{"asset_installations", "asset_audits", "asset_audit_items", "record_links"} {
			if w.out.written[t] == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
				return fmt.Errorf("advance the id sequence of %s: %w", t, err)
			}
		}
	}
	return nil
}
