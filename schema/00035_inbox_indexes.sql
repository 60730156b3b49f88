-- One fewer index to write for every event stored and every status it takes.

-- +goose Up

-- webhook_events_source_open (source, status, received_at), over the same open (pending, failed)
-- events, serves every query this one served.
DROP INDEX sync.webhook_events_status;

-- +goose Down
CREATE INDEX webhook_events_status ON sync.webhook_events (status, source) WHERE status IN ('pending', 'failed');
