-- goose's version table lives in sync (store/migrate.go moves it there from public, where earlier
-- releases kept it, before goose first reads it). goose creates it; it is described here.

-- +goose Up
COMMENT ON TABLE sync.schema_migrations IS 'The migrations of schema/ applied to this database (pressly/goose''s version table).';
COMMENT ON COLUMN sync.schema_migrations.id IS 'Row id.';
COMMENT ON COLUMN sync.schema_migrations.version_id IS 'The migration''s number (the NNNNN of schema/NNNNN_name.sql); 0 marks the table''s creation.';
COMMENT ON COLUMN sync.schema_migrations.is_applied IS 'Whether goose counts the migration as applied.';
COMMENT ON COLUMN sync.schema_migrations.tstamp IS 'When it was applied (the server''s local time: goose declares it timestamp without time zone).';

-- +goose Down
COMMENT ON TABLE sync.schema_migrations IS NULL;
