-- Runs a dead process left open: a daemon killed during a pass (SIGKILL, the host lost) never
-- records its end, and its run would stay `running` (or `queued`) for ever. A run is open only
-- while a session holds a lock that says its owner lives, so anyone can tell from pg_locks.

-- +goose Up

-- A running pass holds the advisory lock of its (source, entity) from before its row says
-- `running` to after it records the end. A queued run has no such lock yet: the process that
-- queued it holds a session lock of its own (its owner key) for as long as it lives.
ALTER TABLE sync.reconcile_runs ADD COLUMN owner bigint;
COMMENT ON COLUMN sync.reconcile_runs.owner IS 'The advisory lock key held by the process that queued the run, for as long as it lives: a queued run whose key no session holds was left by a process that stopped. NULL for runs started at once.';
COMMENT ON COLUMN sync.reconcile_runs.status IS 'queued (waiting for another pass of the same source and entity), running, succeeded or failed. A run whose process stopped before it ended is marked failed, with an error that says so.';

-- The open runs, which the sweep for abandoned ones reads every few seconds.
CREATE INDEX reconcile_runs_open ON sync.reconcile_runs (source, entity) WHERE status IN ('queued', 'running');

-- +goose StatementBegin
CREATE FUNCTION sync.advisory_lock_held(key bigint) RETURNS boolean LANGUAGE sql VOLATILE AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
          AND classid = ((key >> 32) & 4294967295)::oid AND objid = (key & 4294967295)::oid)
$$;
-- +goose StatementEnd
COMMENT ON FUNCTION sync.advisory_lock_held(bigint) IS 'Whether some session of this database holds the session or transaction advisory lock of key (one bigint), without taking it.';

-- +goose Down
DROP FUNCTION sync.advisory_lock_held(bigint);
DROP INDEX sync.reconcile_runs_open;
ALTER TABLE sync.reconcile_runs DROP COLUMN owner;
COMMENT ON COLUMN sync.reconcile_runs.status IS 'queued (waiting for another pass of the same source and entity), running, succeeded or failed.';
