-- +goose Up
-- Asset management (internal/transition/asset, DESMF AM2–AM6): assets as work
-- records with their own row, the disposal record of a disposed asset,
-- discovered software installations for licence compliance, inventory audits
-- with their result rows, and the remediation tasks the audits open. An asset
-- may name a CI and a location CI of the CMDB (cis); it never needs one.
-- Dates are midnight UTC in unix milliseconds (0 = none); money is in minor
-- units of its currency (cents); ids are 64-bit integers.

-- An asset: the work record's own fields. Asset tags and serial numbers are
-- stored upper-case; a tag, when set, is unique (NULL when not set).
CREATE TABLE assets (
    record_id          BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    kind               TEXT NOT NULL CHECK (kind IN ('hardware', 'software', 'licence', 'facility')),
    asset_tag          TEXT UNIQUE,
    serial_number      TEXT NOT NULL DEFAULT '',
    manufacturer       TEXT NOT NULL DEFAULT '',
    model              TEXT NOT NULL DEFAULT '',
    ci_id              BIGINT REFERENCES cis(id) ON DELETE SET NULL,
    cost_minor         BIGINT NOT NULL DEFAULT 0 CHECK (cost_minor >= 0),
    currency           TEXT NOT NULL DEFAULT 'USD',
    purchase_date      BIGINT NOT NULL DEFAULT 0,
    depreciation       TEXT NOT NULL DEFAULT 'none' CHECK (depreciation IN ('straight_line', 'declining_balance', 'none')),
    useful_life_months BIGINT NOT NULL DEFAULT 0 CHECK (useful_life_months >= 0),
    salvage_minor      BIGINT NOT NULL DEFAULT 0 CHECK (salvage_minor >= 0),
    warranty_end       BIGINT NOT NULL DEFAULT 0,
    contract_ref       TEXT NOT NULL DEFAULT '',
    supplier           TEXT NOT NULL DEFAULT '',
    assigned_user_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    location_ci_id     BIGINT REFERENCES cis(id) ON DELETE SET NULL,
    product            TEXT NOT NULL DEFAULT '',
    entitlements       BIGINT NOT NULL DEFAULT 0 CHECK (entitlements >= 0),
    licence_metric     TEXT NOT NULL DEFAULT '' CHECK (licence_metric IN ('', 'per_install', 'per_user'))
);
CREATE INDEX assets_kind ON assets(kind, record_id);
CREATE INDEX assets_serial ON assets(serial_number);
CREATE INDEX assets_ci ON assets(ci_id);
CREATE INDEX assets_user ON assets(assigned_user_id);
CREATE INDEX assets_location ON assets(location_ci_id);
CREATE INDEX assets_product ON assets(product, kind);

-- The disposal record of an asset (AM6). It is written with the dispose step:
-- applied_at stays 0 while the step waits for approval or consultation, and
-- is stamped when the asset moves to disposed.
CREATE TABLE asset_disposals (
    record_id       BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    method          TEXT NOT NULL CHECK (method IN ('resale', 'donation', 'recycling', 'destruction', 'return_to_vendor')),
    disposed_on     BIGINT NOT NULL,
    certificate_ref TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    recorded_by     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    recorded_at     BIGINT NOT NULL,
    applied_at      BIGINT NOT NULL DEFAULT 0
);

-- A discovered software installation: a normalised product key on a host
-- asset, a host CI, or both.
CREATE TABLE asset_installations (
    id            INTEGER PRIMARY KEY,
    product       TEXT NOT NULL,
    version       TEXT NOT NULL DEFAULT '',
    host_asset_id BIGINT REFERENCES records(id) ON DELETE CASCADE,
    host_ci_id    BIGINT REFERENCES cis(id) ON DELETE CASCADE,
    discovered_at BIGINT NOT NULL,
    source        TEXT NOT NULL DEFAULT '',
    created_by    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    CHECK (host_asset_id IS NOT NULL OR host_ci_id IS NOT NULL)
);
CREATE INDEX asset_installations_product ON asset_installations(product, id);
CREATE INDEX asset_installations_asset ON asset_installations(host_asset_id);
CREATE INDEX asset_installations_ci ON asset_installations(host_ci_id);

-- An inventory audit (AM4): what was observed at a location (or anywhere,
-- without one) reconciled against the asset records.
CREATE TABLE asset_audits (
    id             INTEGER PRIMARY KEY,
    location_ci_id BIGINT REFERENCES cis(id) ON DELETE SET NULL,
    note           TEXT NOT NULL DEFAULT '',
    observed       BIGINT NOT NULL DEFAULT 0,
    found          BIGINT NOT NULL DEFAULT 0,
    missing        BIGINT NOT NULL DEFAULT 0,
    unexpected     BIGINT NOT NULL DEFAULT 0,
    created_by     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX asset_audits_created ON asset_audits(created_at, id);

-- One result row of an inventory audit: the asset's state and recorded
-- location when the audit ran, and what applying it did (the report_missing
-- step's outcome and the remediation task it opened).
CREATE TABLE asset_audit_items (
    id          INTEGER PRIMARY KEY,
    audit_id    BIGINT NOT NULL REFERENCES asset_audits(id) ON DELETE CASCADE,
    result      TEXT NOT NULL CHECK (result IN ('found', 'missing', 'unexpected')),
    observed    TEXT NOT NULL DEFAULT '',
    asset_id    BIGINT REFERENCES records(id) ON DELETE SET NULL,
    state       TEXT NOT NULL DEFAULT '',
    recorded_location_ci_id BIGINT NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    step        TEXT NOT NULL DEFAULT '',
    remediation TEXT NOT NULL DEFAULT ''
);
CREATE INDEX asset_audit_items_audit ON asset_audit_items(audit_id, id);

-- A remediation task (AM5) for an asset an audit found missing, or for
-- something it observed unexpectedly (asset_id is NULL for an unknown tag).
CREATE TABLE asset_remediations (
    record_id      BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    asset_id       BIGINT REFERENCES records(id) ON DELETE SET NULL,
    audit_id       BIGINT REFERENCES asset_audits(id) ON DELETE SET NULL,
    reason         TEXT NOT NULL CHECK (reason IN ('missing', 'unexpected')),
    observed       TEXT NOT NULL DEFAULT '',
    location_ci_id BIGINT REFERENCES cis(id) ON DELETE SET NULL
);
CREATE INDEX asset_remediations_asset ON asset_remediations(asset_id);

-- +goose Down
DROP TABLE asset_remediations;
DROP TABLE asset_audit_items;
DROP TABLE asset_audits;
DROP TABLE asset_installations;
DROP TABLE asset_disposals;
DROP TABLE assets;
