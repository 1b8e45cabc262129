-- +goose Up
-- Configuration management (internal/transition/cmdb): CI classes with
-- inheritance and typed attributes, configuration items with their class
-- attributes in one JSON column, typed directed relations, every superseded
-- version of a CI and every ended relation (so a CI can be seen as it was at
-- any time), services, baselines, verification audits and unauthorised-change
-- flags. Times are UTC unix milliseconds; ids are 64-bit integers.

-- A CI class. Attributes are inherited from the parent chain.
CREATE TABLE ci_classes (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    parent_id   BIGINT REFERENCES ci_classes(id),
    description TEXT NOT NULL DEFAULT '',
    abstract    BOOLEAN NOT NULL DEFAULT FALSE,
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX ci_classes_parent ON ci_classes(parent_id);

-- A typed attribute a class declares (its subclasses inherit it). Values live
-- in cis.attrs under name. Indexed and unique attributes are also written to
-- ci_attr_values so identification and uniqueness need no scan.
CREATE TABLE ci_attributes (
    id           INTEGER PRIMARY KEY,
    class_id     BIGINT NOT NULL REFERENCES ci_classes(id),
    name         TEXT NOT NULL,
    label        TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('string', 'text', 'integer', 'number', 'boolean', 'date', 'datetime', 'enum', 'reference')),
    required     BOOLEAN NOT NULL DEFAULT FALSE,
    is_unique    BOOLEAN NOT NULL DEFAULT FALSE,
    indexed      BOOLEAN NOT NULL DEFAULT FALSE,
    enum_values  TEXT NOT NULL DEFAULT '[]',
    ref_class_id BIGINT REFERENCES ci_classes(id),
    position     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (class_id, name)
);

-- A relation type: the forward label reads source → target ("depends on"),
-- the inverse target → source ("used by"). Propagation says which end a
-- failure travels to; redundancy makes the target a group (a cluster) whose
-- members' failures count against its min_up threshold.
CREATE TABLE ci_relation_types (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    label         TEXT NOT NULL,
    inverse_label TEXT NOT NULL,
    propagation   TEXT NOT NULL CHECK (propagation IN ('none', 'to_source', 'to_target', 'both')),
    redundancy    BOOLEAN NOT NULL DEFAULT FALSE,
    builtin       BOOLEAN NOT NULL DEFAULT FALSE,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

-- A configuration item: the current version. valid_from is when this version
-- began; earlier versions are in ci_versions. min_up is the redundancy
-- threshold of a group: it stays up (degraded) while at least min_up of its
-- members are up.
CREATE TABLE cis (
    id          INTEGER PRIMARY KEY,
    class_id    BIGINT NOT NULL REFERENCES ci_classes(id),
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    min_up      BIGINT NOT NULL DEFAULT 1 CHECK (min_up >= 1),
    attrs       TEXT NOT NULL DEFAULT '{}',
    marking     TEXT NOT NULL DEFAULT 'UNCLASSIFIED',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    created_by  BIGINT,
    updated_at  BIGINT NOT NULL,
    updated_by  BIGINT,
    valid_from  BIGINT NOT NULL
);
CREATE INDEX cis_class ON cis(class_id, id);
CREATE INDEX cis_name ON cis(name, id);
CREATE INDEX cis_status ON cis(status, id);

-- Every superseded version of a CI, valid in [valid_from, valid_to).
CREATE TABLE ci_versions (
    ci_id      BIGINT NOT NULL REFERENCES cis(id),
    version    BIGINT NOT NULL,
    class_id   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    min_up     BIGINT NOT NULL,
    attrs      TEXT NOT NULL,
    marking    TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to   BIGINT NOT NULL,
    changed_by BIGINT,
    PRIMARY KEY (ci_id, version)
);

-- Values of indexed and unique attributes, for identification rules and
-- uniqueness. A unique attribute's value is unique across its class subtree.
CREATE TABLE ci_attr_values (
    attr_id   BIGINT NOT NULL REFERENCES ci_attributes(id),
    value     TEXT NOT NULL,
    ci_id     BIGINT NOT NULL REFERENCES cis(id),
    is_unique BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (attr_id, value, ci_id)
);
CREATE UNIQUE INDEX ci_attr_values_unique ON ci_attr_values(attr_id, value) WHERE is_unique;
CREATE INDEX ci_attr_values_ci ON ci_attr_values(ci_id);

-- A current relation, source —type→ target. Both indexes cover the impact
-- walk, so it reads no table rows.
CREATE TABLE ci_relations (
    id         INTEGER PRIMARY KEY,
    source_id  BIGINT NOT NULL REFERENCES cis(id),
    type_id    BIGINT NOT NULL REFERENCES ci_relation_types(id),
    target_id  BIGINT NOT NULL REFERENCES cis(id),
    created_at BIGINT NOT NULL,
    created_by BIGINT,
    CHECK (source_id <> target_id)
);
CREATE UNIQUE INDEX ci_relations_source ON ci_relations(source_id, type_id, target_id);
CREATE INDEX ci_relations_target ON ci_relations(target_id, type_id, source_id);

-- A relation that has ended: it held in [created_at, ended_at).
CREATE TABLE ci_relations_ended (
    id         BIGINT PRIMARY KEY,
    source_id  BIGINT NOT NULL,
    type_id    BIGINT NOT NULL,
    target_id  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT,
    ended_at   BIGINT NOT NULL,
    ended_by   BIGINT
);
CREATE INDEX ci_relations_ended_source ON ci_relations_ended(source_id);
CREATE INDEX ci_relations_ended_target ON ci_relations_ended(target_id);

-- A business or technical service: a CI with a kind and a criticality. Its
-- owner and manager are RACI role assignments scoped to the service.
CREATE TABLE ci_services (
    ci_id       BIGINT PRIMARY KEY REFERENCES cis(id),
    kind        TEXT NOT NULL CHECK (kind IN ('business', 'technical')),
    criticality TEXT NOT NULL CHECK (criticality IN ('mission_critical', 'mission_essential', 'mission_support', 'administrative'))
);

-- A mission partner: a customer organisation that consumes services.
CREATE TABLE mission_partners (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE ci_service_partners (
    service_id BIGINT NOT NULL REFERENCES ci_services(ci_id),
    partner_id BIGINT NOT NULL REFERENCES mission_partners(id),
    PRIMARY KEY (service_id, partner_id)
);
CREATE INDEX ci_service_partners_partner ON ci_service_partners(partner_id);

-- A change to a CI or its relations made with no approved change linked.
CREATE TABLE ci_unauthorised_changes (
    id          INTEGER PRIMARY KEY,
    ci_id       BIGINT NOT NULL REFERENCES cis(id),
    ci_version  BIGINT NOT NULL,
    what        TEXT NOT NULL,
    change_ref  TEXT NOT NULL DEFAULT '',
    actor_id    BIGINT,
    detected_at BIGINT NOT NULL,
    resolved_at BIGINT NOT NULL DEFAULT 0,
    resolved_by BIGINT,
    resolution  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ci_unauthorised_changes_ci ON ci_unauthorised_changes(ci_id, id);
CREATE INDEX ci_unauthorised_changes_open ON ci_unauthorised_changes(resolved_at, id);

-- A baseline: a named snapshot of a set of CIs and the relations among them.
CREATE TABLE ci_baselines (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    scope       TEXT NOT NULL DEFAULT '{}',
    taken_at    BIGINT NOT NULL,
    taken_by    BIGINT,
    ci_count    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE ci_baseline_items (
    baseline_id BIGINT NOT NULL REFERENCES ci_baselines(id) ON DELETE CASCADE,
    ci_id       BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    class_id    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    attrs       TEXT NOT NULL,
    PRIMARY KEY (baseline_id, ci_id)
);

CREATE TABLE ci_baseline_relations (
    baseline_id BIGINT NOT NULL REFERENCES ci_baselines(id) ON DELETE CASCADE,
    source_id   BIGINT NOT NULL,
    type_id     BIGINT NOT NULL,
    target_id   BIGINT NOT NULL,
    PRIMARY KEY (baseline_id, source_id, type_id, target_id)
);

-- A configuration verification and audit (CfM5): observed data reconciled
-- against the CMDB by identification rules, with its findings.
CREATE TABLE ci_audits (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL DEFAULT '{}',
    rules        TEXT NOT NULL DEFAULT '[]',
    source_name  TEXT NOT NULL DEFAULT '',
    source_sha   TEXT NOT NULL DEFAULT '',
    observed     BIGINT NOT NULL DEFAULT 0,
    matched      BIGINT NOT NULL DEFAULT 0,
    mismatched   BIGINT NOT NULL DEFAULT 0,
    missing      BIGINT NOT NULL DEFAULT 0,
    unexpected   BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    created_by   BIGINT
);

CREATE TABLE ci_audit_findings (
    id          INTEGER PRIMARY KEY,
    audit_id    BIGINT NOT NULL REFERENCES ci_audits(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('missing', 'unexpected', 'mismatched')),
    ci_id       BIGINT,
    observed    TEXT NOT NULL DEFAULT '{}',
    differences TEXT NOT NULL DEFAULT '[]',
    task_number TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ci_audit_findings_audit ON ci_audit_findings(audit_id, kind, id);

-- +goose Down
DROP TABLE ci_audit_findings;
DROP TABLE ci_audits;
DROP TABLE ci_baseline_relations;
DROP TABLE ci_baseline_items;
DROP TABLE ci_baselines;
DROP TABLE ci_unauthorised_changes;
DROP TABLE ci_service_partners;
DROP TABLE mission_partners;
DROP TABLE ci_services;
DROP TABLE ci_relations_ended;
DROP TABLE ci_relations;
DROP TABLE ci_attr_values;
DROP TABLE ci_versions;
DROP TABLE cis;
DROP TABLE ci_relation_types;
DROP TABLE ci_attributes;
DROP TABLE ci_classes;
