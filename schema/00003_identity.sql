-- Identity: one mirror row per provider resource.

-- +goose Up

-- Events that name no store find the row their resource already has by (source, external_id).
CREATE INDEX products_source_external_id ON mirror.products (source, external_id);
CREATE INDEX orders_source_external_id ON mirror.orders (source, external_id);
CREATE INDEX fulfillments_source_external_id ON mirror.fulfillments (source, external_id);
CREATE INDEX checkouts_source_external_id ON mirror.checkouts (source, external_id);
CREATE INDEX customers_source_external_id ON mirror.customers (source, external_id);
CREATE INDEX categories_source_external_id ON mirror.categories (source, external_id);
CREATE INDEX pages_source_external_id ON mirror.pages (source, external_id);
CREATE INDEX media_source_external_id ON mirror.media (source, external_id);
CREATE INDEX stock_notifications_source_external_id ON mirror.stock_notifications (source, external_id);
CREATE INDEX stock_demand_source_external_id ON mirror.stock_demand (source, external_id);

-- A row's store is confirmed once an event named it (the "store_id" entry of versions); a row
-- placed by an event that named no store may be adopted by the first event that does. Rows
-- written before this migration in a named store count as confirmed.
UPDATE mirror.products SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.orders SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.fulfillments SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.checkouts SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.customers SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.categories SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.pages SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.media SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.stock_notifications SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';
UPDATE mirror.stock_demand SET versions = versions || '{"store_id": "1970-01-01T00:00:00Z/0"}' WHERE store_id <> '';

-- +goose Down
DROP INDEX mirror.products_source_external_id, mirror.orders_source_external_id,
    mirror.fulfillments_source_external_id, mirror.checkouts_source_external_id,
    mirror.customers_source_external_id, mirror.categories_source_external_id,
    mirror.pages_source_external_id, mirror.media_source_external_id,
    mirror.stock_notifications_source_external_id, mirror.stock_demand_source_external_id;
