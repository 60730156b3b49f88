-- The daemon's bookkeeping: the durable webhook inbox and the reconciler's state.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS sync;
COMMENT ON SCHEMA sync IS 'storemirror''s own bookkeeping: the webhook inbox and reconcile runs. Not for BI.';

-- One sequence orders everything the daemon learns: inbox events take their id from it, and each
-- reconcile pull takes a number from it, so "later received" is one comparison across both.
CREATE SEQUENCE sync.version_seq;
COMMENT ON SEQUENCE sync.version_seq IS 'Receive order of webhook events and reconcile pulls; breaks ties between changes with the same provider time.';

CREATE TABLE sync.webhook_events (
    id           bigint PRIMARY KEY DEFAULT nextval('sync.version_seq'),
    source       text        NOT NULL,
    delivery_id  text        NOT NULL,
    event_type   text        NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    body         bytea       NOT NULL,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'ignored', 'failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    applied_at   timestamptz,
    due_at       timestamptz DEFAULT now(),
    UNIQUE (source, delivery_id)
);
COMMENT ON TABLE sync.webhook_events IS 'The durable inbox: every genuine webhook delivery, committed before it was answered 2xx, then applied to the mirror by the apply workers.';
COMMENT ON COLUMN sync.webhook_events.id IS 'Receive order (from sync.version_seq).';
COMMENT ON COLUMN sync.webhook_events.source IS 'The configured source name the delivery was posted to.';
COMMENT ON COLUMN sync.webhook_events.delivery_id IS 'The provider''s delivery id (svix-id, event id, ...): a repeated delivery is stored once.';
COMMENT ON COLUMN sync.webhook_events.event_type IS 'The provider''s event type (product.updated, notification/sent, ...) as far as it was known at receipt.';
COMMENT ON COLUMN sync.webhook_events.received_at IS 'When the delivery was committed.';
COMMENT ON COLUMN sync.webhook_events.sent_at IS 'The signed timestamp of the delivery, for schemes that have one.';
COMMENT ON COLUMN sync.webhook_events.body IS 'The raw request body as received (for the Bamboo notification callback: without its secretKey).';
COMMENT ON COLUMN sync.webhook_events.status IS 'pending: not applied yet; applied: in the mirror; ignored: genuine but not an event storemirror mirrors; failed: could not be applied (see last_error).';
COMMENT ON COLUMN sync.webhook_events.attempts IS 'How many times applying was tried.';
COMMENT ON COLUMN sync.webhook_events.last_error IS 'Why the event was ignored or failed.';
COMMENT ON COLUMN sync.webhook_events.applied_at IS 'When the event was last applied (or ignored).';
COMMENT ON COLUMN sync.webhook_events.due_at IS 'When the apply workers should (re)try it; NULL once it needs nothing more.';

-- The apply workers' claim: due events in receive order. The partial index stays as small as the backlog.
CREATE INDEX webhook_events_due ON sync.webhook_events (id) WHERE due_at IS NOT NULL;
-- Retention prunes old applied/ignored events; operators look events up by source and time.
CREATE INDEX webhook_events_received ON sync.webhook_events (received_at) WHERE status IN ('applied', 'ignored');
CREATE INDEX webhook_events_source_received ON sync.webhook_events (source, received_at);
CREATE INDEX webhook_events_status ON sync.webhook_events (status, source) WHERE status IN ('pending', 'failed');

CREATE TABLE sync.reconcile_runs (
    id          bigserial PRIMARY KEY,
    source      text        NOT NULL,
    entity      text        NOT NULL,
    mode        text        NOT NULL CHECK (mode IN ('full', 'incremental')),
    trigger     text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'startup')),
    status      text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    pages       integer     NOT NULL DEFAULT 0,
    fetched     integer     NOT NULL DEFAULT 0,
    created     integer     NOT NULL DEFAULT 0,
    updated     integer     NOT NULL DEFAULT 0,
    deleted     integer     NOT NULL DEFAULT 0,
    unchanged   integer     NOT NULL DEFAULT 0,
    error       text
);
COMMENT ON TABLE sync.reconcile_runs IS 'One row per reconcile pass over one (source, entity): what the reconciler pulled and what it had to repair. created/updated/deleted are repairs: changes the webhooks had not delivered.';
COMMENT ON COLUMN sync.reconcile_runs.id IS 'Run id, as returned by POST /admin/resync.';
COMMENT ON COLUMN sync.reconcile_runs.source IS 'The configured source name.';
COMMENT ON COLUMN sync.reconcile_runs.entity IS 'What was pulled: products, orders, customers, categories, stock_demand.';
COMMENT ON COLUMN sync.reconcile_runs.mode IS 'full: the whole listing (and deletion detection); incremental: what changed since the watermark.';
COMMENT ON COLUMN sync.reconcile_runs.trigger IS 'schedule (cron), manual (admin API or CLI), startup.';
COMMENT ON COLUMN sync.reconcile_runs.status IS 'running, succeeded or failed.';
COMMENT ON COLUMN sync.reconcile_runs.started_at IS 'When the pass started.';
COMMENT ON COLUMN sync.reconcile_runs.finished_at IS 'When the pass ended; NULL while running.';
COMMENT ON COLUMN sync.reconcile_runs.pages IS 'Pages fetched from the provider API.';
COMMENT ON COLUMN sync.reconcile_runs.fetched IS 'Rows the provider returned.';
COMMENT ON COLUMN sync.reconcile_runs.created IS 'Rows the mirror did not have (repairs).';
COMMENT ON COLUMN sync.reconcile_runs.updated IS 'Rows whose values the pass changed (repairs).';
COMMENT ON COLUMN sync.reconcile_runs.deleted IS 'Rows marked deleted: missing from two consecutive complete full listings.';
COMMENT ON COLUMN sync.reconcile_runs.unchanged IS 'Rows already up to date.';
COMMENT ON COLUMN sync.reconcile_runs.error IS 'Why the pass failed.';
CREATE INDEX reconcile_runs_source_entity ON sync.reconcile_runs (source, entity, started_at DESC);
CREATE INDEX reconcile_runs_status ON sync.reconcile_runs (status, started_at DESC);

CREATE TABLE sync.reconcile_watermarks (
    source     text        NOT NULL,
    entity     text        NOT NULL,
    watermark  timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, entity)
);
COMMENT ON TABLE sync.reconcile_watermarks IS 'Where the next incremental pass starts: the start time of the last complete pass (less a look-back overlap when used).';
COMMENT ON COLUMN sync.reconcile_watermarks.source IS 'The configured source name.';
COMMENT ON COLUMN sync.reconcile_watermarks.entity IS 'The entity pulled.';
COMMENT ON COLUMN sync.reconcile_watermarks.watermark IS 'Start time of the last complete pass.';
COMMENT ON COLUMN sync.reconcile_watermarks.updated_at IS 'When the watermark last moved.';

-- Rows a full pass saw, by run. Unlogged: it is scratch space rebuilt by every full pass.
CREATE UNLOGGED TABLE sync.reconcile_seen (
    run_id      bigint NOT NULL,
    store_id    text   NOT NULL,
    external_id text   NOT NULL,
    PRIMARY KEY (run_id, store_id, external_id)
);
COMMENT ON TABLE sync.reconcile_seen IS 'Scratch: the rows a running full pass has seen. Emptied when the pass ends.';
COMMENT ON COLUMN sync.reconcile_seen.run_id IS 'The full pass.';
COMMENT ON COLUMN sync.reconcile_seen.store_id IS 'Store of the row seen.';
COMMENT ON COLUMN sync.reconcile_seen.external_id IS 'External id of the row seen.';

CREATE TABLE sync.reconcile_misses (
    source          text        NOT NULL,
    entity          text        NOT NULL,
    store_id        text        NOT NULL,
    external_id     text        NOT NULL,
    misses          integer     NOT NULL,
    first_missed_at timestamptz NOT NULL,
    last_run_id     bigint      NOT NULL,
    PRIMARY KEY (source, entity, store_id, external_id)
);
COMMENT ON TABLE sync.reconcile_misses IS 'Rows absent from the latest complete full listings. Two consecutive misses mark the row deleted; being seen again clears the entry.';
COMMENT ON COLUMN sync.reconcile_misses.source IS 'The configured source name.';
COMMENT ON COLUMN sync.reconcile_misses.entity IS 'The entity listed.';
COMMENT ON COLUMN sync.reconcile_misses.store_id IS 'Store of the missing row.';
COMMENT ON COLUMN sync.reconcile_misses.external_id IS 'External id of the missing row.';
COMMENT ON COLUMN sync.reconcile_misses.misses IS 'Consecutive complete full listings that did not contain the row.';
COMMENT ON COLUMN sync.reconcile_misses.first_missed_at IS 'Start of the first listing that missed it: the deletion time recorded.';
COMMENT ON COLUMN sync.reconcile_misses.last_run_id IS 'The last full pass that missed it.';

CREATE TABLE sync.refetch (
    source      text        NOT NULL,
    entity      text        NOT NULL,
    store_id    text        NOT NULL,
    external_id text        NOT NULL,
    reason      text        NOT NULL,
    flagged_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, entity, store_id, external_id)
);
COMMENT ON TABLE sync.refetch IS 'Rows the reconciler should re-fetch first, e.g. a Bamboo product whose webhook oldState did not match the mirror (a webhook was missed).';
COMMENT ON COLUMN sync.refetch.source IS 'The configured source name.';
COMMENT ON COLUMN sync.refetch.entity IS 'The entity to re-fetch.';
COMMENT ON COLUMN sync.refetch.store_id IS 'Store of the row.';
COMMENT ON COLUMN sync.refetch.external_id IS 'External id of the row.';
COMMENT ON COLUMN sync.refetch.reason IS 'Why it was flagged, e.g. drift: price_min.';
COMMENT ON COLUMN sync.refetch.flagged_at IS 'When it was flagged.';

-- +goose Down
DROP SCHEMA sync CASCADE;
