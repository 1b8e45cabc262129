-- +goose Up
-- The common process controls of DESMF §6 (internal/improvement/controls):
-- process framework documents, monitor-manage-report findings with their
-- corrective actions, and process performance evaluations. Each is a work
-- record of any process, so records name the process whose RACI governs them.
-- Times are UTC unix milliseconds; ids are 64-bit integers.

-- The process whose RACI governs a record: its type's, or, for a type whose
-- records name their process (record.Type.ProcessPerRecord), the record's own.
-- Empty in rows written before this migration, which read as their type's.
ALTER TABLE records ADD COLUMN process TEXT NOT NULL DEFAULT '';
CREATE INDEX records_type_process ON records(type, process, id);

-- A process framework document (§6.2): a versioned policy, procedure, KPI
-- definition or tool requirement. A new version is a new record that
-- supersedes the old one when it is approved.
CREATE TABLE control_documents (
    record_id      BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('policy', 'procedure', 'kpi_definition', 'tool_requirement')),
    version_number BIGINT NOT NULL CHECK (version_number >= 1),
    body           TEXT NOT NULL DEFAULT '',
    kpi            TEXT NOT NULL DEFAULT '',
    supersedes_id  BIGINT REFERENCES records(id) ON DELETE SET NULL,
    approved_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX control_documents_supersedes ON control_documents(supersedes_id);

-- A monitor, manage and report finding (§6.3).
CREATE TABLE control_findings (
    record_id   BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    observation TEXT NOT NULL DEFAULT ''
);

-- The corrective actions of a finding; due_at is midnight UTC of the due date.
CREATE TABLE control_actions (
    id           INTEGER PRIMARY KEY,
    record_id    BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    description  TEXT NOT NULL,
    owner_id     BIGINT NOT NULL REFERENCES users(id),
    due_at       BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    note         TEXT NOT NULL DEFAULT '',
    completed_at BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX control_actions_record ON control_actions(record_id, id);
CREATE INDEX control_actions_owner ON control_actions(owner_id, status);
CREATE INDEX control_actions_due ON control_actions(status, due_at);

-- An evaluation of process performance (§6.4). Feedback, measurements and
-- recommended initiatives are JSON arrays, validated by the application.
CREATE TABLE control_evaluations (
    record_id    BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    period       TEXT NOT NULL DEFAULT '',
    feedback     TEXT NOT NULL DEFAULT '[]',
    measurements TEXT NOT NULL DEFAULT '[]',
    gap_analysis TEXT NOT NULL DEFAULT '',
    initiatives  TEXT NOT NULL DEFAULT '[]'
);

-- +goose Down
DROP TABLE control_evaluations;
DROP TABLE control_actions;
DROP TABLE control_findings;
DROP TABLE control_documents;
DROP INDEX records_type_process;
ALTER TABLE records DROP COLUMN process;
