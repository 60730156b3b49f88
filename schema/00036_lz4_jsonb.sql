-- The mirror's two wide columns, raw (the provider's object) and versions (every field's
-- version), compressed with lz4 instead of pglz: a product row is about 4 kB of them, and
-- compressing it is part of every write. Values already stored keep their compression; both
-- are read alike. A server built without lz4 keeps pglz (a notice in the server log says so;
-- run the ALTERs by hand once it has lz4).

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['products', 'orders', 'fulfillments', 'checkouts', 'customers', 'categories',
                             'pages', 'media', 'stock_notifications', 'stock_demand'] LOOP
        EXECUTE format('ALTER TABLE mirror.%I ALTER COLUMN raw SET COMPRESSION lz4, ALTER COLUMN versions SET COMPRESSION lz4', t);
    END LOOP;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not supported by this server: the mirror''s raw and versions stay compressed with pglz';
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['products', 'orders', 'fulfillments', 'checkouts', 'customers', 'categories',
                             'pages', 'media', 'stock_notifications', 'stock_demand'] LOOP
        EXECUTE format('ALTER TABLE mirror.%I ALTER COLUMN raw SET COMPRESSION default, ALTER COLUMN versions SET COMPRESSION default', t);
    END LOOP;
END $$;
-- +goose StatementEnd
