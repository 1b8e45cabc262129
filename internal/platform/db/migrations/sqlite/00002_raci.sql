-- +goose Up
-- Process tailoring and people in process roles (internal/platform/raci).
-- The reference model (internal/framework) is embedded in the binary; these
-- tables hold only what an organisation changed, and who holds which role.
-- Times are UTC unix milliseconds; ids are 64-bit integers.

-- One row; its generation grows with every tailoring, so that each node can
-- tell cheaply whether its cached copy of the tailoring is still current.
CREATE TABLE raci_state (
    id         BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO raci_state (id, generation) VALUES (1, 0);

-- The head of a tailored process. A process without a row has version 1 and
-- the reference model's default matrix. tailored says whether the matrix is
-- stored (role_columns and raci_cells); otherwise the default applies.
CREATE TABLE raci_processes (
    process      TEXT PRIMARY KEY,
    version      BIGINT NOT NULL,
    tailored     BOOLEAN NOT NULL DEFAULT FALSE,
    role_columns TEXT NOT NULL DEFAULT '',
    updated_at   BIGINT NOT NULL,
    updated_by   BIGINT NOT NULL DEFAULT 0
);

-- The cells of tailored matrices; an absent cell is empty. letters is R, A, C
-- and I as the framework writes them ("A/R").
CREATE TABLE raci_cells (
    process  TEXT NOT NULL,
    activity TEXT NOT NULL,
    role     TEXT NOT NULL,
    letters  TEXT NOT NULL,
    PRIMARY KEY (process, activity, role)
);

-- Local roles: of one process, or of the whole catalogue when process is ''.
-- Codes never collide with seed codes or with each other.
CREATE TABLE raci_roles (
    id          INTEGER PRIMARY KEY,
    process     TEXT NOT NULL DEFAULT '',
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    created_by  BIGINT NOT NULL DEFAULT 0
);

-- Display names a process (or, with process '', the whole catalogue) gives a
-- role; the role's code stays as it is.
CREATE TABLE raci_role_names (
    process    TEXT NOT NULL,
    role       TEXT NOT NULL,
    name       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (process, role)
);

-- Local activities and sub-steps ("IM5.1" under IM5, or "LOC-…"). after_activity is
-- the activity they are listed after; seed activities cannot be changed.
CREATE TABLE raci_activities (
    id          INTEGER PRIMARY KEY,
    process     TEXT NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    parent         TEXT NOT NULL DEFAULT '',
    after_activity TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    created_by     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX raci_activities_process ON raci_activities(process);

-- Per-activity workflow settings, for seed and local activities alike.
CREATE TABLE raci_activity_settings (
    process               TEXT NOT NULL,
    activity              TEXT NOT NULL,
    requires_approval     BOOLEAN NOT NULL DEFAULT FALSE,
    requires_consultation BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (process, activity)
);

-- People and teams in process roles. subject is a process code, a domain
-- code or '*' (everywhere); exactly one of user_id and team_id is set. The
-- scope narrows the assignment to one team's or one service's records
-- (services arrive with the CMDB: no foreign key yet).
CREATE TABLE raci_assignments (
    id               INTEGER PRIMARY KEY,
    subject          TEXT NOT NULL,
    role             TEXT NOT NULL,
    user_id          BIGINT REFERENCES users(id) ON DELETE CASCADE,
    team_id          BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    scope_team_id    BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    scope_service_id BIGINT NOT NULL DEFAULT 0,
    assigned_by      BIGINT NOT NULL DEFAULT 0,
    assigned_at      BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX raci_assignments_unique ON raci_assignments
    (subject, role, COALESCE(user_id, 0), COALESCE(team_id, 0), COALESCE(scope_team_id, 0), scope_service_id);
-- One process owner per process (DESMF §7.5) and one domain owner per domain.
CREATE UNIQUE INDEX raci_assignments_one_owner ON raci_assignments (subject, role)
    WHERE role IN ('process-owner', 'domain-owner');
CREATE INDEX raci_assignments_user ON raci_assignments(user_id);
CREATE INDEX raci_assignments_team ON raci_assignments(team_id);
CREATE INDEX raci_assignments_role ON raci_assignments(role, subject);

-- +goose Down
DROP TABLE raci_assignments;
DROP TABLE raci_activity_settings;
DROP TABLE raci_activities;
DROP TABLE raci_role_names;
DROP TABLE raci_roles;
DROP TABLE raci_cells;
DROP TABLE raci_processes;
DROP TABLE raci_state;
