-- +goose Up
-- Incident management (internal/operation/incident, DESMF IM2–IM6): incidents
-- as work records with their own row, the admin-managed category taxonomy, the
-- process settings (priority matrix, resolution codes, timers, major threshold,
-- security categories), the action fields of a workflow step kept while the
-- step waits for approval or consultation, and the major-incident timeline,
-- communications log and review. The caller is the record's requester and the
-- affected service the record's service_id; the CI is ci_id here. Times are
-- UTC unix milliseconds (0 = none); ids are 64-bit integers.

-- The category taxonomy: a category has parent_key '', a subcategory its
-- category's key. Keys are short and stable; labels may change. An inactive
-- key can no longer be picked but still reads on the incidents that have it.
CREATE TABLE incident_categories (
    id          INTEGER PRIMARY KEY,
    parent_key  TEXT NOT NULL DEFAULT '',
    cat_key     TEXT NOT NULL,
    label       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    position    BIGINT NOT NULL DEFAULT 0,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (parent_key, cat_key)
);

-- The default taxonomy: common desk categories and, for the security path,
-- the CND categories of CJCSM 6510.01B (CAT 1–9). Administrators change it.
INSERT INTO incident_categories (parent_key, cat_key, label, description, position, created_at, updated_at) VALUES
    ('', 'hardware', 'Hardware', 'Physical devices and their parts.', 10, 0, 0),
    ('hardware', 'desktop', 'Desktop', '', 10, 0, 0),
    ('hardware', 'laptop', 'Laptop', '', 20, 0, 0),
    ('hardware', 'monitor', 'Monitor', '', 30, 0, 0),
    ('hardware', 'printer', 'Printer or scanner', '', 40, 0, 0),
    ('hardware', 'mobile-device', 'Mobile device', '', 50, 0, 0),
    ('hardware', 'peripheral', 'Keyboard, mouse or other peripheral', '', 60, 0, 0),
    ('hardware', 'server', 'Server', '', 70, 0, 0),
    ('hardware', 'storage', 'Storage', '', 80, 0, 0),
    ('', 'software', 'Software', 'Applications, operating systems and their installation.', 20, 0, 0),
    ('software', 'application-error', 'Application error', '', 10, 0, 0),
    ('software', 'operating-system', 'Operating system', '', 20, 0, 0),
    ('software', 'installation', 'Installation or update', '', 30, 0, 0),
    ('software', 'licence', 'Licence', '', 40, 0, 0),
    ('software', 'performance', 'Slow or unresponsive', '', 50, 0, 0),
    ('software', 'email', 'E-mail and calendar', '', 60, 0, 0),
    ('software', 'data', 'Data or report wrong', '', 70, 0, 0),
    ('', 'network', 'Network', 'Connectivity and the services that carry it.', 30, 0, 0),
    ('network', 'connectivity', 'No connection', '', 10, 0, 0),
    ('network', 'wifi', 'Wireless', '', 20, 0, 0),
    ('network', 'vpn', 'VPN or remote access', '', 30, 0, 0),
    ('network', 'dns', 'Name resolution (DNS)', '', 40, 0, 0),
    ('network', 'firewall', 'Firewall or proxy', '', 50, 0, 0),
    ('network', 'telephony', 'Telephony', '', 60, 0, 0),
    ('network', 'slow', 'Slow network', '', 70, 0, 0),
    ('', 'access', 'Access', 'Accounts, passwords and permissions.', 40, 0, 0),
    ('access', 'password', 'Password or PIN', '', 10, 0, 0),
    ('access', 'locked-account', 'Locked or disabled account', '', 20, 0, 0),
    ('access', 'permissions', 'Permissions', '', 30, 0, 0),
    ('access', 'certificate', 'Smart card or certificate (CAC/PKI)', '', 40, 0, 0),
    ('access', 'mfa', 'Multi-factor authentication', '', 50, 0, 0),
    ('', 'facilities', 'Facilities', 'Power, rooms and the physical environment of IT.', 50, 0, 0),
    ('facilities', 'power', 'Power', '', 10, 0, 0),
    ('facilities', 'cooling', 'Cooling', '', 20, 0, 0),
    ('facilities', 'room', 'Room or equipment location', '', 30, 0, 0),
    ('', 'inquiry', 'Inquiry', 'Questions and how-to requests about a service.', 60, 0, 0),
    ('inquiry', 'how-to', 'How to', '', 10, 0, 0),
    ('inquiry', 'status', 'Service status', '', 20, 0, 0),
    ('', 'cnd-cat-1', 'CAT 1 – Root level intrusion', 'Unauthorised privileged access to a system (CJCSM 6510.01B, incident).', 100, 0, 0),
    ('', 'cnd-cat-2', 'CAT 2 – User level intrusion', 'Unauthorised non-privileged access to a system (CJCSM 6510.01B, incident).', 110, 0, 0),
    ('', 'cnd-cat-3', 'CAT 3 – Unsuccessful activity attempt', 'A deliberate attempt to gain access that failed (CJCSM 6510.01B, event).', 120, 0, 0),
    ('', 'cnd-cat-4', 'CAT 4 – Denial of service', 'Activity that denies, degrades or disrupts normal operation (CJCSM 6510.01B, incident).', 130, 0, 0),
    ('', 'cnd-cat-5', 'CAT 5 – Non-compliance activity', 'Activity that exposes systems through non-compliance with security policy (CJCSM 6510.01B, event).', 140, 0, 0),
    ('', 'cnd-cat-6', 'CAT 6 – Reconnaissance', 'Scanning, probing or other information gathering (CJCSM 6510.01B, event).', 150, 0, 0),
    ('', 'cnd-cat-7', 'CAT 7 – Malicious logic', 'Installation of malicious software: virus, worm, trojan, ransomware (CJCSM 6510.01B, incident).', 160, 0, 0),
    ('', 'cnd-cat-8', 'CAT 8 – Investigating', 'Suspicious activity still under investigation, not yet categorised (CJCSM 6510.01B, event).', 170, 0, 0),
    ('', 'cnd-cat-9', 'CAT 9 – Explained anomaly', 'Suspicious activity found to be benign (CJCSM 6510.01B, event).', 180, 0, 0);

-- The settings of the process: one row, the JSON document the service reads,
-- with its version as the ETag. No row means the defaults (version 0).
CREATE TABLE incident_settings (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    data       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at BIGINT NOT NULL
);

-- An incident: the work record's own fields. path is normal, major or
-- security (DESMF §9.4.3). external_ref is the number in the system an
-- incident was imported from (unique; NULL for incidents logged here), with
-- the names that system gave its caller, group and assignee.
CREATE TABLE incidents (
    record_id          BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    ci_id              BIGINT REFERENCES cis(id) ON DELETE SET NULL,
    category           TEXT NOT NULL DEFAULT '',
    subcategory        TEXT NOT NULL DEFAULT '',
    logged_category    TEXT NOT NULL DEFAULT '',
    logged_subcategory TEXT NOT NULL DEFAULT '',
    channel            TEXT NOT NULL,
    impact             BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 5),
    urgency            BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 5),
    path               TEXT NOT NULL DEFAULT 'normal' CHECK (path IN ('normal', 'major', 'security')),
    major_manager_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    major_declared_at  BIGINT NOT NULL DEFAULT 0,
    major_declared_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    major_reason       TEXT NOT NULL DEFAULT '',
    escalation_level   BIGINT NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    hold_reason        TEXT NOT NULL DEFAULT '' CHECK (hold_reason IN ('', 'awaiting_caller', 'awaiting_supplier', 'awaiting_change')),
    held_at            BIGINT NOT NULL DEFAULT 0,
    resolved_at        BIGINT NOT NULL DEFAULT 0,
    resolved_by        BIGINT REFERENCES users(id) ON DELETE SET NULL,
    resolution_code    TEXT NOT NULL DEFAULT '',
    resolution_notes   TEXT NOT NULL DEFAULT '',
    effort_minutes     BIGINT NOT NULL DEFAULT 0 CHECK (effort_minutes >= 0),
    first_contact      BOOLEAN NOT NULL DEFAULT FALSE,
    rejections         BIGINT NOT NULL DEFAULT 0,
    last_rejection     TEXT NOT NULL DEFAULT '',
    closed_at          BIGINT NOT NULL DEFAULT 0,
    closed_by          BIGINT REFERENCES users(id) ON DELETE SET NULL,
    reopen_count       BIGINT NOT NULL DEFAULT 0,
    category_reviewed  BOOLEAN NOT NULL DEFAULT FALSE,
    category_changed   BOOLEAN NOT NULL DEFAULT FALSE,
    reclassified_as    TEXT NOT NULL DEFAULT '',
    external_ref       TEXT UNIQUE,
    external_caller    TEXT NOT NULL DEFAULT '',
    external_group     TEXT NOT NULL DEFAULT '',
    external_assignee  TEXT NOT NULL DEFAULT '',
    external_priority  BIGINT NOT NULL DEFAULT 0,
    external_data      TEXT NOT NULL DEFAULT '{}',
    made_sla           BOOLEAN,
    import_hash        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incidents_ci ON incidents(ci_id);
CREATE INDEX incidents_category ON incidents(category, subcategory);
CREATE INDEX incidents_path ON incidents(path, record_id);
CREATE INDEX incidents_manager ON incidents(major_manager_id);

-- The desk queue: a team's incidents in a state, or open, by priority then
-- age; and every team's open (or closed) incidents in that order.
CREATE INDEX records_queue_state ON records(type, team_id, state, priority, created_at, id);
CREATE INDEX records_queue_open ON records(type, team_id, closed, priority, created_at, id);
CREATE INDEX records_queue_all ON records(type, closed, priority, created_at, id);
CREATE INDEX records_service ON records(service_id);

-- The action fields given with a workflow step (a resolution, a hold reason…),
-- kept from the moment the step is asked for until it applies, so that a step
-- waiting for approval or consultation applies with them.
CREATE TABLE incident_step_fields (
    record_id  BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    action     TEXT NOT NULL,
    data       TEXT NOT NULL,
    given_by   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    given_at   BIGINT NOT NULL,
    PRIMARY KEY (record_id, action)
);

-- The stakeholder updates of a major incident (also sent through the outbox).
CREATE TABLE incident_major_updates (
    id          INTEGER PRIMARY KEY,
    record_id   BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    audience    TEXT NOT NULL,
    message     TEXT NOT NULL,
    author_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX incident_major_updates_record ON incident_major_updates(record_id, id);

-- The communications log of a major incident: who was told what, how.
CREATE TABLE incident_major_comms (
    id          INTEGER PRIMARY KEY,
    record_id   BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    party       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    author_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX incident_major_comms_record ON incident_major_comms(record_id, id);

-- The review of a major incident after its resolution; closing waits for it.
CREATE TABLE incident_major_reviews (
    record_id   BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    summary     TEXT NOT NULL,
    root_cause  TEXT NOT NULL,
    lessons     TEXT NOT NULL,
    actions     TEXT NOT NULL,
    reviewed_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    reviewed_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE incident_major_reviews;
DROP TABLE incident_major_comms;
DROP TABLE incident_major_updates;
DROP TABLE incident_step_fields;
DROP INDEX records_service;
DROP INDEX records_queue_all;
DROP INDEX records_queue_open;
DROP INDEX records_queue_state;
DROP TABLE incidents;
DROP TABLE incident_settings;
DROP TABLE incident_categories;
