-- +goose Up
-- The service desk workspace's saved filters (internal/platform/record): a
-- named query string of a list page (the desk queue, the CMDB list…), kept
-- per user, optionally shared with everyone read-only.
CREATE TABLE saved_filters (
    id         INTEGER PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    page       TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL DEFAULT '',
    shared     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    UNIQUE (user_id, page, name)
);
CREATE INDEX saved_filters_shared ON saved_filters(page, shared);

-- +goose Down
DROP TABLE saved_filters;
