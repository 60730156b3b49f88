-- The inbox as operators read it: counts by source and status kept as the inbox changes, and
-- the index of each source's open (pending, failed) events, so that /admin/status, /metrics and
-- the status page read only bounded things.

-- +goose Up

-- Inbox events by source and status, kept by statement triggers in the same transaction as
-- every insert, status change and delete of sync.webhook_events, so that reading them never
-- counts the inbox (260 million rows at 100 events/s for 30 days). The triggers only append
-- deltas, so concurrent transactions never wait on one counter row; CompactInboxCounts folds
-- them into one row per (source, status) every few seconds.
CREATE TABLE sync.inbox_counts (
    source text   NOT NULL,
    status text   NOT NULL,
    events bigint NOT NULL
);
COMMENT ON TABLE sync.inbox_counts IS 'Events in sync.webhook_events by source and status: the sum of events over the rows of a (source, status). Kept by triggers; compacted by the daemon.';
COMMENT ON COLUMN sync.inbox_counts.source IS 'The configured source name.';
COMMENT ON COLUMN sync.inbox_counts.status IS 'pending, applied, ignored or failed.';
COMMENT ON COLUMN sync.inbox_counts.events IS 'A count, or a change to it (negative when events left the status).';

-- +goose StatementBegin
CREATE FUNCTION sync.count_inbox_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync.inbox_counts (source, status, events)
    SELECT source, status, count(*) FROM new_rows GROUP BY source, status;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION sync.count_inbox_updates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync.inbox_counts (source, status, events)
    SELECT source, status, sum(n) FROM (
        SELECT source, status, 1 AS n FROM new_rows
        UNION ALL
        SELECT source, status, -1 FROM old_rows) AS d
    GROUP BY source, status HAVING sum(n) <> 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION sync.count_inbox_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync.inbox_counts (source, status, events)
    SELECT source, status, -count(*) FROM old_rows GROUP BY source, status;
    RETURN NULL;
END $$;
-- +goose StatementEnd
COMMENT ON FUNCTION sync.count_inbox_inserts() IS 'Keeps sync.inbox_counts: events inserted.';
COMMENT ON FUNCTION sync.count_inbox_updates() IS 'Keeps sync.inbox_counts: events whose status changed.';
COMMENT ON FUNCTION sync.count_inbox_deletes() IS 'Keeps sync.inbox_counts: events pruned.';

CREATE TRIGGER webhook_events_count_inserts AFTER INSERT ON sync.webhook_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sync.count_inbox_inserts();
CREATE TRIGGER webhook_events_count_updates AFTER UPDATE ON sync.webhook_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sync.count_inbox_updates();
CREATE TRIGGER webhook_events_count_deletes AFTER DELETE ON sync.webhook_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sync.count_inbox_deletes();

-- The triggers hold their table's lock from here to the commit, so this one count of what is
-- already stored (the only count(*) of the inbox storemirror ever runs) misses nothing.
INSERT INTO sync.inbox_counts (source, status, events)
SELECT source, status, count(*) FROM sync.webhook_events GROUP BY source, status;

-- Per source: its oldest pending event and its latest failed ones, without reading the others.
CREATE INDEX webhook_events_source_open ON sync.webhook_events (source, status, received_at)
    WHERE status IN ('pending', 'failed');

-- +goose Down
DROP INDEX sync.webhook_events_source_open;
DROP TRIGGER webhook_events_count_inserts ON sync.webhook_events;
DROP TRIGGER webhook_events_count_updates ON sync.webhook_events;
DROP TRIGGER webhook_events_count_deletes ON sync.webhook_events;
DROP FUNCTION sync.count_inbox_inserts();
DROP FUNCTION sync.count_inbox_updates();
DROP FUNCTION sync.count_inbox_deletes();
DROP TABLE sync.inbox_counts;
