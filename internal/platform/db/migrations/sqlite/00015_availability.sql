-- +goose Up
-- Availability management (internal/design/availability, DESMF AvM2–AvM6):
-- the outages of a service, the availability plans (work records of type
-- availability_plan with their own row), the availability risks they assess
-- (AvM4) and the actions they track to closure (AvM5, AvM6). The service is a
-- CMDB service (a CI with a row in ci_services). Times are UTC unix
-- milliseconds (0 = none); ids are 64-bit integers.

-- An outage of a service, or of one of its CIs: planned outages are taken out
-- of the agreed service time, unplanned ones are downtime. source says where it
-- came from: recorded by hand, mirrored from a major incident (source_ref is
-- the incident's number), or, reserved for event management, an event.
-- ended_at 0 is an outage still going on.
CREATE TABLE outages (
    id          INTEGER PRIMARY KEY,
    service_id  BIGINT NOT NULL REFERENCES cis(id) ON DELETE CASCADE,
    ci_id       BIGINT REFERENCES cis(id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('planned', 'unplanned')),
    source      TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'incident', 'event')),
    source_ref  TEXT UNIQUE,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    created_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    CHECK (ended_at = 0 OR ended_at > started_at)
);
CREATE INDEX outages_service ON outages(service_id, started_at);
CREATE INDEX outages_started ON outages(started_at);
CREATE INDEX outages_source ON outages(source, started_at);

-- An availability plan (AvM6): the work record's own fields.
CREATE TABLE availability_plans (
    record_id   BIGINT PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
    service_id  BIGINT NOT NULL REFERENCES cis(id) ON DELETE CASCADE,
    period_from BIGINT NOT NULL,
    period_to   BIGINT NOT NULL,
    objective   TEXT NOT NULL,
    CHECK (period_to > period_from)
);
CREATE INDEX availability_plans_service ON availability_plans(service_id);

-- A risk to the availability of the plan's service (AvM4), scored
-- likelihood × impact, each 1 (low) to 5 (high).
CREATE TABLE availability_risks (
    id          INTEGER PRIMARY KEY,
    plan_id     BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    likelihood  BIGINT NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact      BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 5),
    treatment   TEXT NOT NULL DEFAULT '',
    owner_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'treated', 'accepted')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX availability_risks_plan ON availability_risks(plan_id, id);

-- An action of the plan (AvM5, AvM6), optionally treating one of its risks;
-- closed_at is when it was done or cancelled.
CREATE TABLE availability_actions (
    id          INTEGER PRIMARY KEY,
    plan_id     BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    risk_id     BIGINT REFERENCES availability_risks(id) ON DELETE SET NULL,
    title       TEXT NOT NULL,
    owner_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    due_at      BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),
    closed_at   BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX availability_actions_plan ON availability_actions(plan_id, id);
CREATE INDEX availability_actions_risk ON availability_actions(risk_id);

-- +goose Down
DROP TABLE availability_actions;
DROP TABLE availability_risks;
DROP TABLE availability_plans;
DROP TABLE outages;
