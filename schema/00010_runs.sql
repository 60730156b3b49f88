-- Reconcile runs as operators read them: queued runs, backfill counts, repairs per day, the
-- repairs of passes run outside a daemon, and the indexes of the latest runs.

-- +goose Up

-- A pass asked for while another pass of the same (source, entity) runs waits as `queued`; its
-- started_at is NULL until the pass itself starts, so a run's times never cover the wait.
ALTER TABLE sync.reconcile_runs DROP CONSTRAINT reconcile_runs_status_check;
ALTER TABLE sync.reconcile_runs ADD CONSTRAINT reconcile_runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
ALTER TABLE sync.reconcile_runs ALTER COLUMN status SET DEFAULT 'queued';
ALTER TABLE sync.reconcile_runs ALTER COLUMN started_at DROP NOT NULL;
ALTER TABLE sync.reconcile_runs ALTER COLUMN started_at DROP DEFAULT;
ALTER TABLE sync.reconcile_runs ADD COLUMN queued_at timestamptz;
UPDATE sync.reconcile_runs SET queued_at = started_at;
ALTER TABLE sync.reconcile_runs ALTER COLUMN queued_at SET NOT NULL;
ALTER TABLE sync.reconcile_runs ALTER COLUMN queued_at SET DEFAULT now();
ALTER TABLE sync.reconcile_runs ADD COLUMN backfilled integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN sync.reconcile_runs.status IS 'queued (waiting for another pass of the same source and entity), running, succeeded or failed.';
COMMENT ON COLUMN sync.reconcile_runs.started_at IS 'When the pass itself started; NULL while queued.';
COMMENT ON COLUMN sync.reconcile_runs.queued_at IS 'When the pass was asked for (by the schedule, the admin API or the CLI).';
COMMENT ON COLUMN sync.reconcile_runs.backfilled IS 'Rows created by the first complete pass into an entity the mirror had nothing of: a backfill, not a repair.';
COMMENT ON COLUMN sync.reconcile_runs.created IS 'Rows the mirror did not have (repairs; a backfill counts them in backfilled instead).';

-- The latest runs of each (source, entity), newest first, and its last success.
CREATE INDEX reconcile_runs_latest ON sync.reconcile_runs (source, entity, id DESC);
CREATE INDEX reconcile_runs_succeeded ON sync.reconcile_runs (source, entity, finished_at DESC) WHERE status = 'succeeded';

-- Repairs per day, rolled up as each pass ends, for the status page's chart: reading the runs
-- themselves would read every pass of the last days (about a hundred a day per entity).
CREATE TABLE sync.reconcile_days (
    source     text    NOT NULL,
    entity     text    NOT NULL,
    day        date    NOT NULL,
    runs       integer NOT NULL DEFAULT 0,
    failed     integer NOT NULL DEFAULT 0,
    repairs    bigint  NOT NULL DEFAULT 0,
    backfilled bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (source, entity, day)
);
COMMENT ON TABLE sync.reconcile_days IS 'Reconcile passes per day (UTC) of their end, by source and entity: what the status page charts.';
COMMENT ON COLUMN sync.reconcile_days.source IS 'The configured source name.';
COMMENT ON COLUMN sync.reconcile_days.entity IS 'The entity pulled.';
COMMENT ON COLUMN sync.reconcile_days.day IS 'The UTC day the passes ended.';
COMMENT ON COLUMN sync.reconcile_days.runs IS 'Passes that ended that day.';
COMMENT ON COLUMN sync.reconcile_days.failed IS 'Of those, the passes that failed.';
COMMENT ON COLUMN sync.reconcile_days.repairs IS 'Rows the passes created, changed or deleted because the webhooks had not delivered the change.';
COMMENT ON COLUMN sync.reconcile_days.backfilled IS 'Rows the passes created as a first backfill.';
INSERT INTO sync.reconcile_days (source, entity, day, runs, failed, repairs, backfilled)
SELECT source, entity, (finished_at AT TIME ZONE 'UTC')::date, count(*), count(*) FILTER (WHERE status = 'failed'),
       sum(created + updated + deleted), 0
FROM sync.reconcile_runs WHERE finished_at IS NOT NULL
GROUP BY 1, 2, 3;

-- Repairs made by passes outside a daemon (storemirror resync), waiting for a daemon to add them
-- to its storemirror_reconcile_repairs_total: each row is taken by exactly one daemon.
CREATE TABLE sync.unreported_repairs (
    id         bigserial PRIMARY KEY,
    source     text        NOT NULL,
    entity     text        NOT NULL,
    repairs    bigint      NOT NULL,
    backfilled bigint      NOT NULL,
    run_id     bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sync.unreported_repairs IS 'Repairs by storemirror resync (a process without /metrics), until a daemon adds them to its counters and deletes the row.';
COMMENT ON COLUMN sync.unreported_repairs.id IS 'Row id.';
COMMENT ON COLUMN sync.unreported_repairs.source IS 'The configured source name.';
COMMENT ON COLUMN sync.unreported_repairs.entity IS 'The entity pulled.';
COMMENT ON COLUMN sync.unreported_repairs.repairs IS 'Rows the pass created, changed or deleted.';
COMMENT ON COLUMN sync.unreported_repairs.backfilled IS 'Rows the pass created as a backfill.';
COMMENT ON COLUMN sync.unreported_repairs.run_id IS 'The pass (sync.reconcile_runs.id).';
COMMENT ON COLUMN sync.unreported_repairs.created_at IS 'When the pass ended.';

-- +goose Down
DROP TABLE sync.unreported_repairs;
DROP TABLE sync.reconcile_days;
DROP INDEX sync.reconcile_runs_latest;
DROP INDEX sync.reconcile_runs_succeeded;
ALTER TABLE sync.reconcile_runs DROP COLUMN backfilled;
ALTER TABLE sync.reconcile_runs DROP COLUMN queued_at;
UPDATE sync.reconcile_runs SET started_at = coalesce(started_at, now()), status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END;
ALTER TABLE sync.reconcile_runs ALTER COLUMN started_at SET DEFAULT now();
ALTER TABLE sync.reconcile_runs ALTER COLUMN started_at SET NOT NULL;
ALTER TABLE sync.reconcile_runs ALTER COLUMN status SET DEFAULT 'running';
ALTER TABLE sync.reconcile_runs DROP CONSTRAINT reconcile_runs_status_check;
ALTER TABLE sync.reconcile_runs ADD CONSTRAINT reconcile_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed'));
