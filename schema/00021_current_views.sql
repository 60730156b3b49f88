-- mirror.<table>_current: for every entity table, a view of its live rows (deleted_at IS NULL)
-- without storemirror's bookkeeping columns, so that a BI tool shows an analyst only the store's
-- data. The bookkeeping columns are:
--   deleted_at  always NULL in a view of live rows;
--   origin      which of storemirror's paths (webhook, reconcile, replay) last wrote the row;
--   raw         the provider's object as received, kept so that nothing is lost and events can
--               be merged; its fields that matter have typed columns (the table keeps it);
--   versions    the version of each field, the state of the newest-wins merge.
-- The keys (source, store_id, external_id), source_updated_at (the provider's last change) and
-- mirrored_at (when the mirror last changed the row: incremental models and freshness) stay.
--
-- sync.define_current_view builds a view from the table as it is, and copies the table's
-- comments onto it. A later migration that adds a column to an entity table, or changes one of
-- its comments, calls it again: CREATE OR REPLACE VIEW takes the new column at the end, where
-- ALTER TABLE ADD COLUMN put it, and the grants on the view stay. (Dropping a column needs the
-- view dropped first; then call it again, and grant-reader's default privileges cover the new view.)

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION sync.define_current_view(entity text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    tbl  regclass := format('mirror.%I', entity)::regclass;
    cols text;
    col  record;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute
    WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped
      AND attname <> ALL (ARRAY['deleted_at', 'origin', 'raw', 'versions']);
    EXECUTE format('CREATE OR REPLACE VIEW mirror.%I AS SELECT %s FROM mirror.%I WHERE deleted_at IS NULL',
        entity || '_current', cols, entity);
    EXECUTE format('COMMENT ON VIEW mirror.%I IS %L', entity || '_current',
        format('Live rows of mirror.%s (deleted_at IS NULL), without storemirror''s bookkeeping columns (deleted_at, origin, raw, versions). %s',
            entity, obj_description(tbl, 'pg_class')));
    FOR col IN
        SELECT t.attname, col_description(tbl, t.attnum) AS comment
        FROM pg_attribute v JOIN pg_attribute t ON t.attrelid = tbl AND t.attname = v.attname
        WHERE v.attrelid = format('mirror.%I', entity || '_current')::regclass AND v.attnum > 0
    LOOP
        EXECUTE format('COMMENT ON COLUMN mirror.%I.%I IS %L', entity || '_current', col.attname, col.comment);
    END LOOP;
END
$fn$;
-- +goose StatementEnd
COMMENT ON FUNCTION sync.define_current_view(text) IS 'Creates or replaces mirror.<entity>_current from mirror.<entity> as it is now, with its comments. Migrations call it again after changing an entity table.';
-- Only migrations (the owner) call it; it is no business of a reader's.
REVOKE EXECUTE ON FUNCTION sync.define_current_view(text) FROM PUBLIC;

SELECT sync.define_current_view(entity) FROM unnest(ARRAY[
    'products', 'orders', 'fulfillments', 'checkouts', 'customers', 'categories', 'pages', 'media',
    'stock_notifications', 'stock_demand'
]) AS entity;

-- +goose Down
DROP VIEW mirror.products_current, mirror.orders_current, mirror.fulfillments_current,
    mirror.checkouts_current, mirror.customers_current, mirror.categories_current, mirror.pages_current,
    mirror.media_current, mirror.stock_notifications_current, mirror.stock_demand_current;
DROP FUNCTION sync.define_current_view(text);
