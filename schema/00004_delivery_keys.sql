-- Delivery ids compared exactly.

-- +goose Up
-- A delivery id is deduplicated on the SHA-256 of its exact bytes: ids of any length (a unique
-- index on the text itself refuses entries over about 2.7 kB) and ids that differ only in bytes
-- text cannot hold (NUL, invalid UTF-8) stay different. delivery_id keeps a readable form.
ALTER TABLE sync.webhook_events ADD COLUMN delivery_key bytea;
UPDATE sync.webhook_events SET delivery_key = sha256(convert_to(delivery_id, 'UTF8'));
ALTER TABLE sync.webhook_events ALTER COLUMN delivery_key SET NOT NULL;
ALTER TABLE sync.webhook_events ADD CONSTRAINT webhook_events_source_delivery_key_key UNIQUE (source, delivery_key);
ALTER TABLE sync.webhook_events DROP CONSTRAINT webhook_events_source_delivery_id_key;
COMMENT ON COLUMN sync.webhook_events.delivery_key IS 'SHA-256 of the exact bytes of the provider''s delivery id: a repeated delivery is stored once, and two ids that differ in any byte are two deliveries.';
COMMENT ON COLUMN sync.webhook_events.delivery_id IS 'The provider''s delivery id (svix-id, event id, ...), readable: NUL bytes dropped and invalid UTF-8 replaced (delivery_key is the exact one).';

-- +goose Down
ALTER TABLE sync.webhook_events ADD CONSTRAINT webhook_events_source_delivery_id_key UNIQUE (source, delivery_id);
ALTER TABLE sync.webhook_events DROP COLUMN delivery_key;
