-- +goose Up
-- Business calendars (internal/platform/calendar): weekly working windows in
-- local time of an IANA time zone, less holidays. Service level targets run
-- their clocks and availability its agreed service time over them. windows is
-- a JSON array of {day "mon".."sun", start "HH:MM", end "HH:MM" (may be
-- "24:00"), endsNextDay}; holidays a JSON array of {date "YYYY-MM-DD", name}.
-- Times are UTC unix milliseconds. The 24x7 calendar (id 1, UTC, every hour)
-- and business hours (id 2, America/New_York, Monday to Friday 08:00 to 17:00
-- less the US federal holidays of 2026 and 2027) are seeded.
CREATE TABLE calendars (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    time_zone   TEXT NOT NULL,
    windows     TEXT NOT NULL DEFAULT '[]',
    holidays    TEXT NOT NULL DEFAULT '[]',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
INSERT INTO calendars (id, name, description, time_zone, windows, holidays, created_at, updated_at, version) VALUES
    (1, '24x7', '24×7: every hour of every day, holidays included.', 'UTC',
     '[{"day":"mon","start":"00:00","end":"24:00","endsNextDay":false},{"day":"tue","start":"00:00","end":"24:00","endsNextDay":false},{"day":"wed","start":"00:00","end":"24:00","endsNextDay":false},{"day":"thu","start":"00:00","end":"24:00","endsNextDay":false},{"day":"fri","start":"00:00","end":"24:00","endsNextDay":false},{"day":"sat","start":"00:00","end":"24:00","endsNextDay":false},{"day":"sun","start":"00:00","end":"24:00","endsNextDay":false}]', '[]', 0, 0, 1),
    (2, 'business', 'Business hours: Monday to Friday, 08:00 to 17:00 New York time, less US federal holidays.', 'America/New_York',
     '[{"day":"mon","start":"08:00","end":"17:00","endsNextDay":false},{"day":"tue","start":"08:00","end":"17:00","endsNextDay":false},{"day":"wed","start":"08:00","end":"17:00","endsNextDay":false},{"day":"thu","start":"08:00","end":"17:00","endsNextDay":false},{"day":"fri","start":"08:00","end":"17:00","endsNextDay":false}]',
     '[{"date":"2026-01-01","name":"New Year''s Day"},{"date":"2026-01-19","name":"Birthday of Martin Luther King, Jr."},{"date":"2026-02-16","name":"Washington''s Birthday"},{"date":"2026-05-25","name":"Memorial Day"},{"date":"2026-06-19","name":"Juneteenth National Independence Day"},{"date":"2026-07-03","name":"Independence Day"},{"date":"2026-09-07","name":"Labor Day"},{"date":"2026-10-12","name":"Columbus Day"},{"date":"2026-11-11","name":"Veterans Day"},{"date":"2026-11-26","name":"Thanksgiving Day"},{"date":"2026-12-25","name":"Christmas Day"},{"date":"2027-01-01","name":"New Year''s Day"},{"date":"2027-01-18","name":"Birthday of Martin Luther King, Jr."},{"date":"2027-02-15","name":"Washington''s Birthday"},{"date":"2027-05-31","name":"Memorial Day"},{"date":"2027-06-18","name":"Juneteenth National Independence Day"},{"date":"2027-07-05","name":"Independence Day"},{"date":"2027-09-06","name":"Labor Day"},{"date":"2027-10-11","name":"Columbus Day"},{"date":"2027-11-11","name":"Veterans Day"},{"date":"2027-11-25","name":"Thanksgiving Day"},{"date":"2027-12-24","name":"Christmas Day"},{"date":"2027-12-31","name":"New Year''s Day (observed)"}]', 0, 0, 1);

-- +goose Down
DROP TABLE calendars;
