-- +goose Up
-- E-mail in and out (internal/platform/mail). Outbound: a consumer of the
-- outbox with its own cursor turns record events into one queued message per
-- recipient; a sender delivers the queue through the SMTP relay with retries.
-- Inbound: every message read from the monitored IMAP mailbox is remembered by
-- its Message-ID with what became of it, so that it is handled once.
-- Times are unix milliseconds (0 = never).

-- The notification consumer's position in outbox_events: every event with an
-- id up to last_id has been read. The row is locked while a batch is read, so
-- that one node at a time consumes. It starts at the newest event when the
-- migration runs: events from before mail existed are never mailed.
CREATE TABLE mail_cursors (
    name       TEXT PRIMARY KEY,
    last_id    BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO mail_cursors (name, last_id, updated_at)
    SELECT 'notifications', COALESCE(MAX(id), 0), 0 FROM outbox_events;

-- Event ids the cursor passed that were not visible yet (a transaction that
-- drew its id earlier committed later, on PostgreSQL). They are looked for
-- again on every read until they appear or are too old to be waited for.
CREATE TABLE mail_event_gaps (
    event_id   BIGINT PRIMARY KEY,
    noticed_at BIGINT NOT NULL
);

-- One notification to one address. message_id is the Message-ID it is sent
-- with (without angle brackets), thread_id the record's thread it refers to.
CREATE TABLE mail_messages (
    id              INTEGER PRIMARY KEY,
    event_id        BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    user_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    to_addr         TEXT NOT NULL,
    to_name         TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    record_number   TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL UNIQUE,
    thread_id       TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL DEFAULT 0,
    UNIQUE (event_id, to_addr)
);
CREATE INDEX mail_messages_due ON mail_messages(state, next_attempt_at);
CREATE INDEX mail_messages_record ON mail_messages(record_number, id);

-- One inbound message, by its Message-ID (or a hash of it when it has none).
-- status: processing (claimed; lease_until bounds the claim), replied (a
-- comment on record_number), created (record_number was opened), skipped
-- (loop protection or rate limit; reason says which), rejected (the handler
-- refused it; reason says why), failed (it kept failing).
CREATE TABLE mail_inbound (
    id            INTEGER PRIMARY KEY,
    message_key   TEXT NOT NULL UNIQUE,
    from_addr     TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('processing', 'replied', 'created', 'skipped', 'rejected', 'failed')),
    reason        TEXT NOT NULL DEFAULT '',
    record_number TEXT NOT NULL DEFAULT '',
    attempts      BIGINT NOT NULL DEFAULT 0,
    mail_date     BIGINT NOT NULL DEFAULT 0,
    lease_until   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX mail_inbound_sender ON mail_inbound(from_addr, status, updated_at);

-- +goose Down
DROP TABLE mail_inbound;
DROP TABLE mail_messages;
DROP TABLE mail_event_gaps;
DROP TABLE mail_cursors;
