package cmdb

// defaultClass is a class of the default tree with its own attributes.
type defaultClass struct {
	name, label, parent, description string
	abstract                         bool
	attrs                            []Attribute
}

func str(name, label string) Attribute { return Attribute{Name: name, Label: label, Type: TypeString} }

func indexed(a Attribute) Attribute { a.Indexed = true; return a }

func unique(a Attribute) Attribute { a.Unique, a.Indexed = true, true; return a }

// defaultClasses is the class tree Steward ships, parents before children.
// Identification uses serial_number, and hostname plus domain, which are
// indexed on hardware; asset_tag is unique across every CI.
var defaultClasses = []defaultClass{
	{name: "configuration_item", label: "Configuration item", abstract: true,
		description: "The root of every CI class.",
		attrs: []Attribute{
			{Name: "description", Label: "Description", Type: TypeText},
			unique(str("asset_tag", "Asset tag")),
			{Name: "environment", Label: "Environment", Type: TypeEnum, Enum: []string{"production", "staging", "test", "development"}},
		}},
	{name: "hardware", label: "Hardware", parent: "configuration_item",
		description: "Physical or virtual equipment.",
		attrs: []Attribute{
			indexed(str("serial_number", "Serial number")), str("manufacturer", "Manufacturer"), str("model", "Model"),
			indexed(str("hostname", "Host name")), indexed(str("domain", "Domain")), indexed(str("ip_address", "IP address")),
		}},
	{name: "server", label: "Server", parent: "hardware",
		attrs: []Attribute{
			str("os", "Operating system"),
			{Name: "cpu_count", Label: "CPUs", Type: TypeInteger},
			{Name: "memory_gb", Label: "Memory (GB)", Type: TypeNumber},
		}},
	{name: "virtual_server", label: "Virtual server", parent: "server",
		attrs: []Attribute{{Name: "hypervisor", Label: "Hypervisor host", Type: TypeReference, RefClass: "server"}}},
	{name: "network_device", label: "Network device", parent: "hardware",
		attrs: []Attribute{{Name: "device_type", Label: "Device type", Type: TypeEnum, Enum: []string{"switch", "router", "firewall", "load_balancer", "access_point", "other"}}}},
	{name: "storage", label: "Storage", parent: "hardware",
		attrs: []Attribute{{Name: "capacity_tb", Label: "Capacity (TB)", Type: TypeNumber}}},
	{name: "cluster", label: "Cluster", parent: "configuration_item",
		description: "A group of redundant members; see the CI's minUp.",
		attrs:       []Attribute{{Name: "cluster_type", Label: "Cluster type", Type: TypeEnum, Enum: []string{"compute", "database", "network", "storage", "application"}}}},
	{name: "software", label: "Software", parent: "configuration_item",
		attrs: []Attribute{str("vendor", "Vendor"), str("version", "Version"), indexed(str("product", "Product key"))}},
	{name: "application", label: "Application", parent: "software",
		attrs: []Attribute{str("url", "URL")}},
	{name: "database", label: "Database", parent: "software",
		attrs: []Attribute{
			{Name: "engine", Label: "Engine", Type: TypeEnum, Enum: []string{"postgresql", "oracle", "sqlserver", "mysql", "sqlite", "other"}},
			{Name: "port", Label: "Port", Type: TypeInteger},
		}},
	{name: "service", label: "Service", parent: "configuration_item", abstract: true,
		description: "A service; its owner, manager, mission partners and criticality are on the service record."},
	{name: "business_service", label: "Business service", parent: "service"},
	{name: "technical_service", label: "Technical service", parent: "service"},
	{name: "location", label: "Location", parent: "configuration_item",
		attrs: []Attribute{unique(str("site_code", "Site code")), {Name: "address", Label: "Address", Type: TypeText}, str("country", "Country")}},
	{name: "document", label: "Document", parent: "configuration_item",
		attrs: []Attribute{
			{Name: "document_type", Label: "Document type", Type: TypeEnum, Enum: []string{"policy", "procedure", "design", "runbook", "contract", "other"}},
			str("url", "URL"),
		}},
	{name: "dr_plan", label: "Disaster recovery plan", parent: "configuration_item",
		description: "An IT service continuity (disaster recovery) plan.",
		attrs: []Attribute{
			{Name: "rto_hours", Label: "Recovery time objective (h)", Type: TypeNumber},
			{Name: "rpo_hours", Label: "Recovery point objective (h)", Type: TypeNumber},
			{Name: "last_tested", Label: "Last tested", Type: TypeDate},
			{Name: "plan_document", Label: "Plan document", Type: TypeReference, RefClass: "document"},
		}},
}

// defaultRelationTypes are the relation types Steward ships.
var defaultRelationTypes = []RelationType{
	{Name: "depends_on", Label: "depends on", InverseLabel: "used by", Propagation: "to_source"},
	{Name: "runs_on", Label: "runs on", InverseLabel: "hosts", Propagation: "to_source"},
	{Name: "connected_to", Label: "connected to", InverseLabel: "connected to", Propagation: "none"},
	{Name: "member_of", Label: "member of cluster", InverseLabel: "has member", Propagation: "to_target", Redundancy: true},
	{Name: "provides", Label: "provides service", InverseLabel: "provided by", Propagation: "to_target"},
	{Name: "consumes", Label: "consumes service", InverseLabel: "consumed by", Propagation: "to_source"},
	{Name: "located_at", Label: "located at", InverseLabel: "location of", Propagation: "to_source"},
}
