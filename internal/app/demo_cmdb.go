package app

// The demo's configuration management story: the Server & Storage team
// registers the two data centres, their network cores, a database cluster
// and the platforms under the organisation's mission services; the
// configuration manager registers the services with their owners and mission
// partners. Later an engineer upgrades a server without a change (flagged),
// and a failed cluster node is replaced.

import (
	"fmt"
	"time"

	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
)

// demoCI is one CI of the demo estate, by a short key.
type demoCI struct {
	key, class, name string
	minUp            int64
	attrs            cmdb.Attrs
}

var demoEstate = []demoCI{
	{key: "dc1", class: "location", name: "Norfolk Data Centre", attrs: cmdb.Attrs{"site_code": "NDC", "country": "US"}},
	{key: "dc2", class: "location", name: "San Diego Data Centre", attrs: cmdb.Attrs{"site_code": "SDC", "country": "US"}},
	{key: "core1", class: "network_device", name: "ndc-core-sw01", attrs: cmdb.Attrs{"device_type": "switch", "serial_number": "FDO2231A0KX", "manufacturer": "Cisco", "model": "Nexus 9336C", "hostname": "ndc-core-sw01", "domain": "jesc.example"}},
	{key: "core2", class: "network_device", name: "sdc-core-sw01", attrs: cmdb.Attrs{"device_type": "switch", "serial_number": "FDO2231A1QZ", "manufacturer": "Cisco", "model": "Nexus 9336C", "hostname": "sdc-core-sw01", "domain": "jesc.example"}},
	{key: "fw1", class: "network_device", name: "ndc-fw01", attrs: cmdb.Attrs{"device_type": "firewall", "serial_number": "PA5450-0091", "manufacturer": "Palo Alto", "hostname": "ndc-fw01", "domain": "jesc.example"}},
	{key: "db1", class: "server", name: "ndc-db01", attrs: cmdb.Attrs{"serial_number": "CZ2140AB01", "hostname": "ndc-db01", "domain": "jesc.example", "os": "RHEL 9.3", "cpu_count": 32, "memory_gb": 512, "environment": "production", "asset_tag": "JESC-004101"}},
	{key: "db2", class: "server", name: "ndc-db02", attrs: cmdb.Attrs{"serial_number": "CZ2140AB02", "hostname": "ndc-db02", "domain": "jesc.example", "os": "RHEL 9.3", "cpu_count": 32, "memory_gb": 512, "environment": "production", "asset_tag": "JESC-004102"}},
	{key: "db3", class: "server", name: "sdc-db03", attrs: cmdb.Attrs{"serial_number": "CZ2140AB03", "hostname": "sdc-db03", "domain": "jesc.example", "os": "RHEL 9.3", "cpu_count": 32, "memory_gb": 512, "environment": "production", "asset_tag": "JESC-004103"}},
	{key: "dbc", class: "cluster", name: "logistics-db-cluster", minUp: 2, attrs: cmdb.Attrs{"cluster_type": "database"}},
	{key: "esx1", class: "server", name: "ndc-esx01", attrs: cmdb.Attrs{"serial_number": "CZ2150XV11", "hostname": "ndc-esx01", "domain": "jesc.example", "os": "ESXi 8.0", "cpu_count": 64, "memory_gb": 1024, "environment": "production"}},
	{key: "esx2", class: "server", name: "ndc-esx02", attrs: cmdb.Attrs{"serial_number": "CZ2150XV12", "hostname": "ndc-esx02", "domain": "jesc.example", "os": "ESXi 8.0", "cpu_count": 64, "memory_gb": 1024, "environment": "production"}},
	{key: "vmc", class: "cluster", name: "ndc-vsphere-cluster", minUp: 1, attrs: cmdb.Attrs{"cluster_type": "compute"}},
	{key: "web1", class: "virtual_server", name: "logweb01", attrs: cmdb.Attrs{"hostname": "logweb01", "domain": "jesc.example", "os": "RHEL 9.3", "cpu_count": 4, "memory_gb": 16, "environment": "production"}},
	{key: "idm1", class: "virtual_server", name: "idm01", attrs: cmdb.Attrs{"hostname": "idm01", "domain": "jesc.example", "os": "Windows Server 2022", "cpu_count": 8, "memory_gb": 32, "environment": "production"}},
	{key: "san1", class: "storage", name: "ndc-san01", attrs: cmdb.Attrs{"serial_number": "NTAP-A400-77", "manufacturer": "NetApp", "model": "AFF A400", "capacity_tb": 420}},
	{key: "pg", class: "database", name: "logistics-pg", attrs: cmdb.Attrs{"engine": "postgresql", "port": 5432, "version": "15.6", "environment": "production"}},
	{key: "logapp", class: "application", name: "GCSS Logistics Portal", attrs: cmdb.Attrs{"vendor": "JESC", "version": "4.2", "url": "https://logistics.jesc.example", "environment": "production"}},
	{key: "idmapp", class: "application", name: "Identity Manager", attrs: cmdb.Attrs{"vendor": "Microsoft", "product": "microsoft-identity-manager", "version": "2016 SP2", "environment": "production"}},
	{key: "drp", class: "dr_plan", name: "Logistics DR Plan", attrs: cmdb.Attrs{"rto_hours": 4, "rpo_hours": 1, "last_tested": "2026-06-14"}},
}

// demoRelations are source —type→ target, by key.
var demoRelations = [][3]string{
	{"core1", "located_at", "dc1"}, {"fw1", "located_at", "dc1"}, {"core2", "located_at", "dc2"},
	{"db1", "located_at", "dc1"}, {"db2", "located_at", "dc1"}, {"db3", "located_at", "dc2"},
	{"db1", "depends_on", "core1"}, {"db2", "depends_on", "core1"}, {"db3", "depends_on", "core2"},
	{"db1", "member_of", "dbc"}, {"db2", "member_of", "dbc"}, {"db3", "member_of", "dbc"},
	{"esx1", "depends_on", "core1"}, {"esx2", "depends_on", "core1"}, {"esx1", "depends_on", "san1"}, {"esx2", "depends_on", "san1"},
	{"esx1", "member_of", "vmc"}, {"esx2", "member_of", "vmc"}, {"esx1", "located_at", "dc1"}, {"esx2", "located_at", "dc1"},
	{"web1", "runs_on", "vmc"}, {"idm1", "runs_on", "vmc"},
	{"pg", "runs_on", "dbc"}, {"logapp", "runs_on", "web1"}, {"logapp", "depends_on", "pg"}, {"logapp", "depends_on", "fw1"},
	{"idmapp", "runs_on", "idm1"}, {"core1", "connected_to", "core2"},
}

// scheduleCMDB tells the story of configuration management.
func (d *demo) scheduleCMDB() {
	ids := map[string]int64{}
	var last time.Time
	engineer := "hannah.schultz"
	for i, c := range demoEstate {
		d.after(&last, d.day(82, 9, 0).Add(time.Duration(i)*4*time.Minute), "register CI "+c.name, func() error {
			out, err := d.cmdb.CreateCI(d.as(engineer), cmdb.NewCI{Class: c.class, Name: c.name, MinUp: c.minUp, Attrs: cloneAttrs(c.attrs)})
			ids[c.key] = out.ID
			return err
		})
	}
	for i, r := range demoRelations {
		d.after(&last, d.day(82, 11, 0).Add(time.Duration(i)*time.Minute), fmt.Sprintf("relate %s %s %s", r[0], r[1], r[2]), func() error {
			_, err := d.cmdb.AddRelation(d.as(engineer), cmdb.NewRelation{SourceID: ids[r[0]], Type: r[1], TargetID: ids[r[2]]})
			return err
		})
	}
	services := []struct {
		key, name, kind, owner, manager string
		crit                            cmdb.Criticality
		partners                        []string
		providers                       []string
	}{
		{"svc-log", "Fleet Logistics", "business", "karen.whitfield", "laura.simmons", cmdb.CriticalityCritical,
			[]string{"US Fleet Forces Command", "Joint Staff J4"}, []string{"logapp"}},
		{"svc-idm", "Identity and Access", "technical", "rachel.kim", "daniel.foster", cmdb.CriticalityEssential,
			[]string{"US Fleet Forces Command", "Naval Information Forces", "Joint Staff J4"}, []string{"idmapp"}},
	}
	for i, s := range services {
		d.after(&last, d.day(81, 10, 0).Add(time.Duration(i)*30*time.Minute), "register service "+s.name, func() error {
			out, err := d.cmdb.CreateService(d.as("brian.walsh"), cmdb.NewService{Name: s.name, Kind: s.kind, Criticality: s.crit,
				OwnerID: d.user(s.owner), ManagerID: d.user(s.manager), Partners: s.partners})
			ids[s.key] = out.ID
			return err
		})
		for _, p := range s.providers {
			d.after(&last, d.day(81, 10, 5).Add(time.Duration(i)*30*time.Minute), "relate "+p+" to "+s.name, func() error {
				_, err := d.cmdb.AddRelation(d.as("brian.walsh"), cmdb.NewRelation{SourceID: ids[p], Type: "provides", TargetID: ids[s.key]})
				return err
			})
		}
	}
	d.after(&last, d.day(81, 11, 30), "the logistics service consumes identity", func() error {
		_, err := d.cmdb.AddRelation(d.as("brian.walsh"), cmdb.NewRelation{SourceID: ids["svc-log"], Type: "consumes", TargetID: ids["svc-idm"]})
		return err
	})
	// An engineer patches a server's OS without a change: flagged.
	d.after(&last, d.day(40, 22, 15), "upgrade ndc-db02 without a change", func() error {
		c, err := d.cmdb.GetCI(d.as(engineer), ids["db2"])
		if err != nil {
			return err
		}
		os := "RHEL 9.4"
		_, err = d.cmdb.UpdateCI(d.as(engineer), c.ID, c.Version, cmdb.CIUpdate{Attrs: cmdb.Attrs{"os": os}})
		return err
	})
	d.after(&last, d.day(39, 9, 40), "resolve the flag", func() error {
		page, _, err := d.cmdb.UnauthorisedChanges(d.as("brian.walsh"), cmdb.UnauthorisedFilter{CIID: ids["db2"], Open: true}, listing.Params{Limit: 10})
		if err != nil || len(page.Items) == 0 {
			return err
		}
		_, err = d.cmdb.ResolveUnauthorised(d.as("brian.walsh"), page.Items[0].ID,
			"Emergency security patch; authorised retrospectively by the change manager, the other nodes follow under a normal change.")
		return err
	})
	// A cluster node fails and is replaced.
	d.after(&last, d.day(12, 3, 20), "retire failed node ndc-db01", func() error {
		c, err := d.cmdb.GetCI(d.as(engineer), ids["db1"])
		if err != nil {
			return err
		}
		st := cmdb.StatusRetired
		_, err = d.cmdb.UpdateCI(d.as(engineer), c.ID, c.Version, cmdb.CIUpdate{Status: &st})
		return err
	})
	d.after(&last, d.day(11, 14, 0), "register replacement ndc-db04", func() error {
		out, err := d.cmdb.CreateCI(d.as(engineer), cmdb.NewCI{Class: "server", Name: "ndc-db04", Attrs: cmdb.Attrs{"serial_number": "CZ2140AB04",
			"hostname": "ndc-db04", "domain": "jesc.example", "os": "RHEL 9.4", "cpu_count": 32, "memory_gb": 512, "environment": "production", "asset_tag": "JESC-004104"}})
		ids["db4"] = out.ID
		return err
	})
	for i, r := range [][3]string{{"db4", "member_of", "dbc"}, {"db4", "located_at", "dc1"}, {"db4", "depends_on", "core1"}} {
		d.after(&last, d.day(11, 14, 10+i), "relate the replacement node", func() error {
			_, err := d.cmdb.AddRelation(d.as(engineer), cmdb.NewRelation{SourceID: ids[r[0]], Type: r[1], TargetID: ids[r[2]]})
			return err
		})
	}
	d.after(&last, d.day(11, 14, 20), "take ndc-db01 out of the cluster", func() error {
		rels, err := d.cmdb.Relations(d.as(engineer), ids["db1"], time.Time{})
		if err != nil {
			return err
		}
		for _, r := range rels.Outgoing {
			if r.Type == "member_of" {
				return d.cmdb.RemoveRelation(d.as(engineer), r.ID, "")
			}
		}
		return nil
	})
}

func cloneAttrs(a cmdb.Attrs) cmdb.Attrs {
	out := make(cmdb.Attrs, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}
