-- +goose Up
-- Service-level clocks at run time (internal/design/servicelevel/tracker).
-- A record's clocks are derived from its audit entries: the tracker tails
-- audit_log by seq with its own cursor, folds each record's clock-relevant
-- history into a timeline, and computes one clock per applicable target on the
-- target's business calendar. Times are UTC unix milliseconds (0 = none);
-- durations are milliseconds of business time.

-- The tracker's position in audit_log: every entry with a seq up to seq has
-- been folded. It starts at 0, so records older than the tracker get clocks.
CREATE TABLE sla_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO sla_cursor (name, seq) VALUES ('refresh', 0);

-- A record's folded clock-relevant history (sla.Timeline as JSON) up to the
-- audit entry seq: a cache the tracker rebuilds from audit_log when missing.
CREATE TABLE sla_timelines (
    record_id  BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    number     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    data       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One target's clock on one record, as computed at computed_at. target_id,
-- agreement_id and calendar_id name rows of the service-level tables without a
-- foreign key: a clock outlives a target set being replaced and is then
-- re-targeted or removed by the next recompute. period is yyyymm of
-- started_at in UTC (0 when not started). next_threshold is the next
-- threshold (percent; 100 is the breach) to fire and next_at when it is due (0:
-- none while the clock does not run); fired is the highest threshold fired in
-- cycle fired_cycle.
CREATE TABLE sla_clocks (
    id             INTEGER PRIMARY KEY,
    record_id      BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    target_id      BIGINT NOT NULL,
    target_name    TEXT NOT NULL DEFAULT '',
    agreement_id   BIGINT NOT NULL,
    agreement_name TEXT NOT NULL DEFAULT '',
    agreement_kind TEXT NOT NULL DEFAULT '',
    calendar_id    BIGINT NOT NULL DEFAULT 0,
    kind           TEXT NOT NULL,
    record_type    TEXT NOT NULL,
    service_id     BIGINT NOT NULL DEFAULT 0,
    team_id        BIGINT NOT NULL DEFAULT 0,
    priority       BIGINT NOT NULL DEFAULT 0,
    status         TEXT NOT NULL CHECK (status IN ('not_started', 'running', 'paused', 'met', 'breached', 'cancelled')),
    started_at     BIGINT NOT NULL DEFAULT 0,
    stopped_at     BIGINT NOT NULL DEFAULT 0,
    target_ms      BIGINT NOT NULL,
    elapsed_ms     BIGINT NOT NULL DEFAULT 0,
    paused_ms      BIGINT NOT NULL DEFAULT 0,
    due_at         BIGINT NOT NULL DEFAULT 0,
    breached_at    BIGINT NOT NULL DEFAULT 0,
    cycle          BIGINT NOT NULL DEFAULT 0,
    next_threshold BIGINT NOT NULL DEFAULT 0,
    next_at        BIGINT NOT NULL DEFAULT 0,
    fired          BIGINT NOT NULL DEFAULT 0,
    fired_cycle    BIGINT NOT NULL DEFAULT 0,
    period         BIGINT NOT NULL DEFAULT 0,
    computed_at    BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    UNIQUE (record_id, target_id)
);
CREATE INDEX sla_clocks_next ON sla_clocks(next_at) WHERE next_at > 0;
CREATE INDEX sla_clocks_due ON sla_clocks(status, due_at);
-- The achievement report (SLM6) groups by agreement, target, period, priority
-- and status: these covering indexes answer it without reading the table.
CREATE INDEX sla_clocks_service_period ON sla_clocks(service_id, period, agreement_id, target_id, priority, status);
CREATE INDEX sla_clocks_agreement_period ON sla_clocks(agreement_id, period, target_id, priority, status);
CREATE INDEX sla_clocks_calendar ON sla_clocks(calendar_id);

-- The figures a recompute replaced: a clock re-targeted (the record's priority
-- changed, a target's duration was redefined) or its due time moved by a
-- calendar change or a correction keeps its old figures here.
CREATE TABLE sla_clock_history (
    id            INTEGER PRIMARY KEY,
    clock_id      BIGINT NOT NULL,
    record_id     BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    old_target_id BIGINT NOT NULL DEFAULT 0,
    new_target_id BIGINT NOT NULL DEFAULT 0,
    old_target_ms BIGINT NOT NULL DEFAULT 0,
    new_target_ms BIGINT NOT NULL DEFAULT 0,
    old_due_at    BIGINT NOT NULL DEFAULT 0,
    new_due_at    BIGINT NOT NULL DEFAULT 0,
    old_status    TEXT NOT NULL DEFAULT '',
    new_status    TEXT NOT NULL DEFAULT '',
    old_priority  BIGINT NOT NULL DEFAULT 0,
    new_priority  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sla_clock_history_record ON sla_clock_history(record_id, at);

-- An escalation fired: once per clock, threshold, cycle and action, whichever
-- node's sweep inserts the row first; outcome says what it did.
CREATE TABLE sla_escalations (
    id        INTEGER PRIMARY KEY,
    clock_id  BIGINT NOT NULL,
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    threshold BIGINT NOT NULL,
    cycle     BIGINT NOT NULL,
    action    TEXT NOT NULL,
    fired_at  BIGINT NOT NULL,
    node      TEXT NOT NULL DEFAULT '',
    outcome   TEXT NOT NULL DEFAULT '',
    UNIQUE (clock_id, threshold, cycle, action)
);
CREATE INDEX sla_escalations_record ON sla_escalations(record_id, fired_at);

-- A hand-made pause of every clock of a record (the caller could not be reached
-- from from_at to to_at).
CREATE TABLE sla_corrections (
    id         INTEGER PRIMARY KEY,
    record_id  BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    from_at    BIGINT NOT NULL,
    to_at      BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    CHECK (to_at > from_at)
);
CREATE INDEX sla_corrections_record ON sla_corrections(record_id, from_at);

-- A record's audit entries in sequence order, which the tracker reads.
CREATE INDEX audit_log_object_seq ON audit_log(object_type, object_id, seq);

-- +goose Down
DROP INDEX audit_log_object_seq;
DROP TABLE sla_corrections;
DROP TABLE sla_escalations;
DROP TABLE sla_clock_history;
DROP TABLE sla_clocks;
DROP TABLE sla_timelines;
DROP TABLE sla_cursor;
