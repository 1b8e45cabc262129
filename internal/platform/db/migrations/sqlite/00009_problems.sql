-- +goose Up
-- Problem management (internal/operation/problem, DESMF PM2–PM6) and the
-- known-error database: problems and known errors are work records with their
-- own rows, root-cause analyses and major-problem reviews of a problem, and the
-- full-text index known errors are matched by while an incident is logged.
-- A problem or a known error may name a CMDB CI (cis); the service is the
-- record's service_id (a CI with a row in ci_services). Category keys are the
-- incident taxonomy's, stored as text. Times are UTC unix milliseconds (0 =
-- none); ids are 64-bit integers.

-- A problem: the work record's own fields. origin says what raised it: by hand,
-- from incidents (linked through record_links as caused_by), or from a trend of
-- recurring incidents (trend_* keep which trend). root cause statements are in
-- problem_rcas; the RFC reference is what raise_rfc (PM5) stored, a free text
-- or URL until change management exists.
CREATE TABLE problems (
    record_id     BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    category      TEXT NOT NULL DEFAULT '',
    subcategory   TEXT NOT NULL DEFAULT '',
    impact        BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency       BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    major         BOOLEAN NOT NULL DEFAULT FALSE,
    ci_id         BIGINT REFERENCES cis(id) ON DELETE SET NULL,
    origin        TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'incidents', 'trend')),
    trend_by      TEXT NOT NULL DEFAULT '' CHECK (trend_by IN ('', 'category', 'ci', 'service')),
    trend_key     TEXT NOT NULL DEFAULT '',
    trend_from    BIGINT NOT NULL DEFAULT 0,
    trend_to      BIGINT NOT NULL DEFAULT 0,
    trend_count   BIGINT NOT NULL DEFAULT 0,
    workaround    TEXT NOT NULL DEFAULT '',
    rfc_ref       TEXT NOT NULL DEFAULT '',
    rfc_raised_at BIGINT NOT NULL DEFAULT 0,
    resolution    TEXT NOT NULL DEFAULT '',
    resolved_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX problems_ci ON problems(ci_id);
CREATE INDEX problems_category ON problems(category, subcategory);
CREATE INDEX problems_major ON problems(major, record_id);

-- A root-cause analysis of a problem (PM4): the method, the findings, the
-- evidence (a JSON array of {"text"} and {"attachmentId"} items, the
-- attachments being the problem's own) and the root cause statement.
CREATE TABLE problem_rcas (
    id          INTEGER PRIMARY KEY,
    record_id   BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    method      TEXT NOT NULL CHECK (method IN ('five_whys', 'fishbone', 'fault_tree', 'kepner_tregoe', 'timeline', 'other')),
    findings    TEXT NOT NULL DEFAULT '',
    evidence    TEXT NOT NULL DEFAULT '[]',
    root_cause  TEXT NOT NULL DEFAULT '',
    created_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX problem_rcas_record ON problem_rcas(record_id, id);

-- The review of a resolved problem (PM6); a major problem closes only with one.
-- follow_ups is a JSON array of texts.
CREATE TABLE problem_reviews (
    record_id   BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    summary     TEXT NOT NULL,
    lessons     TEXT NOT NULL DEFAULT '',
    follow_ups  TEXT NOT NULL DEFAULT '[]',
    reviewed_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    reviewed_at BIGINT NOT NULL
);

-- A known error: the work record's own fields (its title is the record's
-- title, its symptoms the record's description). state mirrors records.state
-- (kept by the workflow step's transaction) so that matching reads only
-- published rows through these indexes; service_id mirrors records.service_id
-- for the same reason. An empty workaround inherits the problem's.
CREATE TABLE known_errors (
    record_id   BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    problem_id  BIGINT REFERENCES records(id) ON DELETE SET NULL,
    state       TEXT NOT NULL,
    root_cause  TEXT NOT NULL DEFAULT '',
    workaround  TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    subcategory TEXT NOT NULL DEFAULT '',
    service_id  BIGINT,
    ci_id       BIGINT REFERENCES cis(id) ON DELETE SET NULL
);
CREATE INDEX known_errors_problem ON known_errors(problem_id);
CREATE INDEX known_errors_ci ON known_errors(state, ci_id, record_id);
CREATE INDEX known_errors_service ON known_errors(state, service_id, record_id);
CREATE INDEX known_errors_category ON known_errors(state, category, subcategory, record_id);

-- Full text over known errors: a contentless FTS5 table whose rowid is
-- known_errors.record_id, kept in step by the problem store in the same
-- transaction. workaround is the effective one (its own, else the problem's).
CREATE VIRTUAL TABLE known_error_fts USING fts5(
    title, symptoms, workaround,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- The words of each known error that is not retired: the distinct stems of its
-- title, symptoms and effective workaround, as matching stems an incident's
-- words; and, per word, how many known errors hold it (the row of the empty
-- word counts the published known errors). Both are kept in step in the
-- known error's transactions. Matching reads how common each of an incident's
-- words is from the counts, by primary key, so that the full-text search looks
-- only for the rarer ones.
CREATE TABLE known_error_words (
    word      TEXT NOT NULL,
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    PRIMARY KEY (record_id, word)
);

CREATE TABLE known_error_word_counts (
    word TEXT PRIMARY KEY,
    n    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE known_error_word_counts;
DROP TABLE known_error_words;
DROP TABLE known_error_fts;
DROP TABLE known_errors;
DROP TABLE problem_reviews;
DROP TABLE problem_rcas;
DROP TABLE problems;
