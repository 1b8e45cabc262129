-- +goose Up
-- The work-record kernel: numbered records of every process, their journal,
-- attachments (content in deduplicated blobs), watchers, typed links, the
-- workflow steps that wait for approval (A) or consultation (C), and the
-- full-text index. Times are UTC unix milliseconds; ids are 64-bit integers.

-- One row per record type: its number prefix (an administrator may change it)
-- and the counter its numbers are drawn from (UPDATE … RETURNING).
CREATE TABLE record_types (
    name        TEXT PRIMARY KEY,
    prefix      TEXT NOT NULL UNIQUE,
    last_number BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE records (
    id            INTEGER PRIMARY KEY,
    type          TEXT NOT NULL,
    number        TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    closed        BOOLEAN NOT NULL DEFAULT FALSE,
    priority      BIGINT CHECK (priority BETWEEN 1 AND 5),
    team_id       BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    assignee_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    requester_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    service_id    BIGINT,
    marking       TEXT NOT NULL DEFAULT 'UNCLASSIFIED',
    reassignments BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX records_type_state ON records(type, state);
CREATE INDEX records_team ON records(team_id);
CREATE INDEX records_assignee ON records(assignee_id);
CREATE INDEX records_requester ON records(requester_id);
CREATE INDEX records_created ON records(created_at);
CREATE INDEX records_updated ON records(updated_at);

-- Full text: a contentless FTS5 table whose rowid is records.id, kept in step
-- with records by the record store in the same transaction.
CREATE VIRTUAL TABLE record_fts USING fts5(
    number, title, description,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TABLE record_journal (
    id          INTEGER PRIMARY KEY,
    record_id   BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('work_note', 'comment', 'system')),
    body        TEXT NOT NULL,
    author_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX record_journal_record ON record_journal(record_id, id);

-- Attachment content, keyed and deduplicated by its SHA-256.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    data       BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE record_attachments (
    id            INTEGER PRIMARY KEY,
    record_id     BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    blob_sha256   TEXT NOT NULL REFERENCES blobs(sha256),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    declared_type TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL,
    uploaded_by   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    uploader_name TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE INDEX record_attachments_record ON record_attachments(record_id, id);
CREATE INDEX record_attachments_blob ON record_attachments(blob_sha256);

CREATE TABLE record_watchers (
    record_id  BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX record_watchers_user ON record_watchers(user_id);

-- A typed link is one row in its canonical direction; at most one link of a
-- type joins two records, whichever way round.
CREATE TABLE record_links (
    id         INTEGER PRIMARY KEY,
    from_id    BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    to_id      BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    CHECK (from_id <> to_id)
);
CREATE UNIQUE INDEX record_links_pair ON record_links(min(from_id, to_id), max(from_id, to_id), type);
CREATE INDEX record_links_from ON record_links(from_id);
CREATE INDEX record_links_to ON record_links(to_id);

-- A workflow step that waits: for the consulted (C) holders' answers, then, if
-- the activity asks for it, for an accountable (A) holder's approval.
CREATE TABLE record_steps (
    id                 INTEGER PRIMARY KEY,
    record_id          BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    action             TEXT NOT NULL,
    activity           TEXT NOT NULL,
    from_state         TEXT NOT NULL,
    to_state           TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('consulting', 'pending_approval', 'applied', 'rejected', 'cancelled')),
    needs_approval     BOOLEAN NOT NULL,
    comment            TEXT NOT NULL DEFAULT '',
    requested_by       BIGINT NOT NULL REFERENCES users(id),
    requested_at       BIGINT NOT NULL,
    performer_override BOOLEAN NOT NULL DEFAULT FALSE,
    decided_by         BIGINT REFERENCES users(id),
    decided_at         BIGINT NOT NULL DEFAULT 0,
    reason             TEXT NOT NULL DEFAULT '',
    decision_override  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX record_steps_open ON record_steps(record_id, action) WHERE state IN ('consulting', 'pending_approval');
CREATE INDEX record_steps_record ON record_steps(record_id, state);
CREATE INDEX record_steps_state ON record_steps(state, id);

-- The accountable (A) holders a step waited for when it was requested: the
-- "my approvals" queue. Whether a user may approve is decided afresh.
CREATE TABLE record_step_approvers (
    step_id BIGINT NOT NULL REFERENCES record_steps(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (step_id, user_id)
);
CREATE INDEX record_step_approvers_user ON record_step_approvers(user_id);

-- One consultation task per consulted (C) holder of a step.
CREATE TABLE record_consultations (
    id         INTEGER PRIMARY KEY,
    step_id    BIGINT NOT NULL REFERENCES record_steps(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    roles      TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'waived', 'cancelled')),
    answer     TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (step_id, user_id)
);
CREATE INDEX record_consultations_user ON record_consultations(user_id, state);

-- +goose Down
DROP TABLE record_consultations;
DROP TABLE record_step_approvers;
DROP TABLE record_steps;
DROP TABLE record_links;
DROP TABLE record_watchers;
DROP TABLE record_attachments;
DROP TABLE blobs;
DROP TABLE record_journal;
DROP TABLE record_fts;
DROP TABLE records;
DROP TABLE record_types;
