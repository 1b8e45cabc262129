-- +goose Up
-- Request fulfilment (internal/operation/request, DESMF RF2–RF4) and the
-- service catalog: catalog items with their form, approval levels and
-- fulfilment tasks; service requests and request tasks as work records with
-- their own rows; the approvals of a request, level by level. Also a user's
-- manager (internal/platform/auth), who approves a catalog item's "manager"
-- level. Times are UTC unix milliseconds; ids are 64-bit integers.

-- A user's manager: another account, never the user or anyone the user manages.
ALTER TABLE users ADD COLUMN manager_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX users_manager ON users(manager_id);

-- A catalog item. form is JSON: its typed variables, its approval levels and
-- its fulfilment tasks ({"variables": [...], "approvals": [...], "tasks": [...]}),
-- read and written as a whole. service_id is a CMDB service (a CI with a row in
-- ci_services).
CREATE TABLE catalog_items (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL DEFAULT '',
    service_id   BIGINT NOT NULL REFERENCES cis(id),
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    form         TEXT NOT NULL DEFAULT '{}',
    target_hours BIGINT NOT NULL DEFAULT 0 CHECK (target_hours >= 0),
    created_by   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    updated_by   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX catalog_items_name ON catalog_items(active, name, id);
CREATE INDEX catalog_items_category ON catalog_items(category, name, id);
CREATE INDEX catalog_items_service ON catalog_items(service_id, name, id);

-- A service request: the work record's own fields. definition is the item's
-- form, approvals and tasks as they were when the request was submitted (JSON),
-- so that editing the item never changes a request in flight; variables are
-- the values submitted (JSON object). stage is the fulfilment stage under way
-- (0 before fulfilment); approval_level the level that decides now (0 when
-- none). pending_action and pending_reason hold the reason given with a step
-- that may wait for approval (reject, not_done) until it applies.
CREATE TABLE service_requests (
    record_id        BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    catalog_item_id  BIGINT REFERENCES catalog_items(id),
    definition       TEXT NOT NULL DEFAULT '{}',
    variables        TEXT NOT NULL DEFAULT '{}',
    channel          TEXT NOT NULL DEFAULT 'portal',
    source_incident  TEXT NOT NULL DEFAULT '',
    target_hours     BIGINT NOT NULL DEFAULT 0,
    approval_level   BIGINT NOT NULL DEFAULT 0,
    stage            BIGINT NOT NULL DEFAULT 0,
    pending_action   TEXT NOT NULL DEFAULT '',
    pending_reason   TEXT NOT NULL DEFAULT '',
    rejection_reason TEXT NOT NULL DEFAULT '',
    fulfilled_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX service_requests_item ON service_requests(catalog_item_id, record_id);

-- One approver of one level of a request: a user (the requester's manager, a
-- service owner) or a team (a group level, which any one member decides).
-- waiting rows belong to a later level; pending rows to the level deciding
-- now; the first decision of a level settles it and skips its other rows.
CREATE TABLE request_approvals (
    id          INTEGER PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    level       BIGINT NOT NULL CHECK (level >= 1),
    kind        TEXT NOT NULL CHECK (kind IN ('manager', 'service_owner', 'group')),
    approver_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    team_id     BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    state       TEXT NOT NULL CHECK (state IN ('waiting', 'pending', 'approved', 'rejected', 'skipped', 'cancelled')),
    decided_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    decided_at  BIGINT NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX request_approvals_request ON request_approvals(request_id, level, id);
CREATE INDEX request_approvals_approver ON request_approvals(approver_id, state);
CREATE INDEX request_approvals_team ON request_approvals(team_id, state);

-- A fulfilment task of a request: which stage of the item's tasks it belongs
-- to and its place in the item's task list.
CREATE TABLE request_tasks (
    record_id  BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    request_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    stage      BIGINT NOT NULL,
    position   BIGINT NOT NULL
);
CREATE INDEX request_tasks_request ON request_tasks(request_id, stage, position);

-- +goose Down
DROP TABLE request_tasks;
DROP TABLE request_approvals;
DROP TABLE service_requests;
DROP TABLE catalog_items;
DROP INDEX users_manager;
ALTER TABLE users DROP COLUMN manager_id;
