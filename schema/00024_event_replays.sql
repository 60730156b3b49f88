-- Which events a replay put back, so that GET /admin/events tells a replayed event from one its
-- webhook delivery alone applied.

-- +goose Up

-- Nullable and without a default: adding it rewrites nothing, however large the inbox.
ALTER TABLE sync.webhook_events ADD COLUMN replayed_at timestamptz;
COMMENT ON COLUMN sync.webhook_events.replayed_at IS 'When a replay (POST /admin/replay, the status page, storemirror replay) last put the event back to be applied again; NULL: only its webhook delivery applied it.';

-- +goose Down
ALTER TABLE sync.webhook_events DROP COLUMN replayed_at;
