-- +goose Up
-- Service level management (internal/design/servicelevel, DESMF SLM2–SLM8):
-- agreements (SLA, OLA, UC), service reviews and service improvement plans are
-- work records with their own rows. An agreement names the services it covers,
-- the OLAs and UCs that underpin an SLA, its measured targets and its terms
-- (penalties and credits). The tracker (migration 00014) measures the
-- time-based targets of agreed agreements on the agreement's calendar. Times
-- are UTC unix milliseconds (0 = none); ids are 64-bit integers; lists are
-- JSON arrays kept as TEXT.

-- An agreement's own fields. kind says what it is: a service level agreement
-- with a customer, an operational level agreement with an internal team, or an
-- underpinning contract with a supplier. starts_on and ends_on are UTC
-- midnights (0 = open); review_months is how often it is reviewed.
CREATE TABLE agreements (
    record_id     BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('SLA', 'OLA', 'UC')),
    customer      TEXT NOT NULL DEFAULT '',
    supplier      TEXT NOT NULL DEFAULT '',
    calendar_id   BIGINT NOT NULL REFERENCES calendars(id),
    starts_on     BIGINT NOT NULL DEFAULT 0,
    ends_on       BIGINT NOT NULL DEFAULT 0,
    review_months BIGINT NOT NULL DEFAULT 12 CHECK (review_months BETWEEN 1 AND 120),
    notes         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agreements_kind ON agreements(kind, record_id);
CREATE INDEX agreements_calendar ON agreements(calendar_id);

-- The CMDB services an agreement covers.
CREATE TABLE agreement_services (
    agreement_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    service_id   BIGINT NOT NULL REFERENCES cis(id) ON DELETE CASCADE,
    PRIMARY KEY (agreement_id, service_id)
);
CREATE INDEX agreement_services_service ON agreement_services(service_id, agreement_id);

-- The OLAs and UCs that underpin an SLA.
CREATE TABLE agreement_underpins (
    sla_id      BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    underpin_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    PRIMARY KEY (sla_id, underpin_id),
    CHECK (sla_id <> underpin_id)
);
CREATE INDEX agreement_underpins_underpin ON agreement_underpins(underpin_id, sla_id);

-- A measured target of an agreement. Time kinds (response, resolution,
-- fulfilment, custom) allow duration_ms of business time on the agreement's
-- calendar; percent is the availability to reach (availability) or the share
-- of clocks that must meet the target (time kinds, 0 = none stated). priority
-- NULL applies to every priority. record_types, categories and customer_teams
-- are JSON arrays narrowing the records measured (empty: all). rule is the
-- clock rule as JSON, '' for the default rule of the kind; warnings the
-- warning thresholds in percent; escalations the actions per threshold.
CREATE TABLE agreement_targets (
    id             INTEGER PRIMARY KEY,
    agreement_id   BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('response', 'resolution', 'fulfilment', 'availability', 'custom')),
    priority       BIGINT CHECK (priority BETWEEN 1 AND 5),
    duration_ms    BIGINT NOT NULL DEFAULT 0,
    percent        REAL NOT NULL DEFAULT 0,
    record_types   TEXT NOT NULL DEFAULT '[]',
    categories     TEXT NOT NULL DEFAULT '[]',
    customer_teams TEXT NOT NULL DEFAULT '[]',
    rule           TEXT NOT NULL DEFAULT '',
    warnings       TEXT NOT NULL DEFAULT '[]',
    escalations    TEXT NOT NULL DEFAULT '[]',
    position       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agreement_targets_agreement ON agreement_targets(agreement_id, position);

-- A term of an agreement: a penalty or a credit that applies when a target (or,
-- with target_id NULL, the agreement as a whole) has more breaches than
-- threshold in a reviewed period, or an achievement below threshold percent.
CREATE TABLE agreement_terms (
    id           INTEGER PRIMARY KEY,
    agreement_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    target_id    BIGINT REFERENCES agreement_targets(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('penalty', 'credit')),
    trigger      TEXT NOT NULL CHECK (trigger IN ('breaches_over', 'achievement_below')),
    threshold    REAL NOT NULL DEFAULT 0,
    amount       REAL NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    position     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agreement_terms_agreement ON agreement_terms(agreement_id, position);
CREATE INDEX agreement_terms_target ON agreement_terms(target_id);

-- Bumped by every write that changes what Service.Targets returns, so that
-- each node re-reads the targets only when they changed.
CREATE TABLE agreement_generation (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO agreement_generation (id, generation) VALUES (1, 1);

-- A service review (SLM7): the achievement report of a service (and of one
-- agreement, when agreement_id is set) over a period, kept as a JSON snapshot
-- with the penalties and credits its terms identified, and the minutes.
CREATE TABLE service_reviews (
    record_id    BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    service_id   BIGINT NOT NULL REFERENCES cis(id),
    agreement_id BIGINT REFERENCES records(id) ON DELETE SET NULL,
    period_from  BIGINT NOT NULL,
    period_to    BIGINT NOT NULL,
    report       TEXT NOT NULL DEFAULT '{}',
    penalties    TEXT NOT NULL DEFAULT '[]',
    minutes      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX service_reviews_service ON service_reviews(service_id, period_from);

-- A service improvement plan (SLM8), possibly formulated from a review.
CREATE TABLE improvement_plans (
    record_id  BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES cis(id),
    review_id  BIGINT REFERENCES records(id) ON DELETE SET NULL,
    objective  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX improvement_plans_service ON improvement_plans(service_id);
CREATE INDEX improvement_plans_review ON improvement_plans(review_id);

-- An item of an improvement plan, tracked to closure: a plan closes only when
-- none is open.
CREATE TABLE improvement_actions (
    id         INTEGER PRIMARY KEY,
    plan_id    BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    owner_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    due_at     BIGINT NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),
    closed_at  BIGINT NOT NULL DEFAULT 0,
    note       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX improvement_actions_plan ON improvement_actions(plan_id, state, id);

-- +goose Down
DROP TABLE improvement_actions;
DROP TABLE improvement_plans;
DROP TABLE service_reviews;
DROP TABLE agreement_generation;
DROP TABLE agreement_terms;
DROP TABLE agreement_targets;
DROP TABLE agreement_underpins;
DROP TABLE agreement_services;
DROP TABLE agreements;
