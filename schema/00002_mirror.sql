-- The mirror: plain tables for BI tools. No foreign keys (they could reject data); every row
-- carries its source and store; deletes are soft (deleted_at).
--
-- No secondary index starts with (source, store_id): the daemon looks rows up by primary key, and
-- on a table filled faster than autovacuum analyzes it (a first sync), the planner would otherwise
-- take an index sharing that prefix and filter every row of the store.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS mirror;
COMMENT ON SCHEMA mirror IS 'The store''s catalog and orders, mirrored from its providers by storemirror. Query freely; never write.';

CREATE TABLE mirror.products (
    source               text NOT NULL,
    store_id             text NOT NULL DEFAULT '',
    external_id          text NOT NULL,
    kind                 text,
    bundle_type          text,
    name                 text,
    sku                  text,
    status               text,
    description          text,
    slug                 text,
    brand_name           text,
    country_code         text,
    vertical_name        text,
    category_external_id text,
    category_name        text,
    currency             text,
    price                numeric,
    price_min            numeric,
    price_max            numeric,
    min_face_value       numeric,
    max_face_value       numeric,
    stock_quantity       bigint,
    max_quantity         bigint,
    is_taxable           boolean,
    tax_code             text,
    is_shippable         boolean,
    cost_of_goods        numeric,
    restocking_fee       numeric,
    provider_created_at  timestamptz,
    source_updated_at    timestamptz,
    deleted_at           timestamptz,
    mirrored_at          timestamptz NOT NULL DEFAULT now(),
    origin               text NOT NULL DEFAULT 'webhook',
    raw                  jsonb,
    versions             jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.products IS 'The catalog: one row per product or bundle, from every source. Children (variants, bundle items, images, custom fields) are in their own tables keyed by product_external_id.';
COMMENT ON COLUMN mirror.products.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.products.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.products.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.products.kind IS 'product or bundle.';
COMMENT ON COLUMN mirror.products.bundle_type IS 'For bundles, the provider''s bundle type as spelled by the provider (sticky.io: Pre-built, Custom Built).';
COMMENT ON COLUMN mirror.products.name IS 'Product name (BareCommerce: title).';
COMMENT ON COLUMN mirror.products.sku IS 'Stock keeping unit.';
COMMENT ON COLUMN mirror.products.status IS 'The provider''s status word as the provider spells it (Bamboo: Available...; BareCommerce: draft/published/archived).';
COMMENT ON COLUMN mirror.products.description IS 'Product description.';
COMMENT ON COLUMN mirror.products.slug IS 'URL slug, where the provider has one.';
COMMENT ON COLUMN mirror.products.brand_name IS 'Brand (Bamboo catalog brand).';
COMMENT ON COLUMN mirror.products.country_code IS 'Country the product is sold for (Bamboo).';
COMMENT ON COLUMN mirror.products.vertical_name IS 'sticky.io vertical.';
COMMENT ON COLUMN mirror.products.category_external_id IS 'Provider id of the product''s category.';
COMMENT ON COLUMN mirror.products.category_name IS 'Name of the product''s category.';
COMMENT ON COLUMN mirror.products.currency IS 'ISO currency of the prices.';
COMMENT ON COLUMN mirror.products.price IS 'Selling price.';
COMMENT ON COLUMN mirror.products.price_min IS 'Lowest price (Bamboo price.min: the cost to the client).';
COMMENT ON COLUMN mirror.products.price_max IS 'Highest price (Bamboo price.max).';
COMMENT ON COLUMN mirror.products.min_face_value IS 'Smallest face value of a gift card (Bamboo).';
COMMENT ON COLUMN mirror.products.max_face_value IS 'Largest face value of a gift card (Bamboo).';
COMMENT ON COLUMN mirror.products.stock_quantity IS 'Units in stock; NULL = unlimited or unknown.';
COMMENT ON COLUMN mirror.products.max_quantity IS 'Most units per order (sticky.io).';
COMMENT ON COLUMN mirror.products.is_taxable IS 'Whether tax applies.';
COMMENT ON COLUMN mirror.products.tax_code IS 'Provider tax code.';
COMMENT ON COLUMN mirror.products.is_shippable IS 'Whether the product ships physically.';
COMMENT ON COLUMN mirror.products.cost_of_goods IS 'Cost of goods (sticky.io).';
COMMENT ON COLUMN mirror.products.restocking_fee IS 'Restocking fee (sticky.io).';
COMMENT ON COLUMN mirror.products.provider_created_at IS 'When the provider created the product.';
COMMENT ON COLUMN mirror.products.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.products.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.products.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.products.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.products.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.products.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX products_source_source_updated_at ON mirror.products (source, source_updated_at);
CREATE INDEX products_source_status ON mirror.products (source, status);
CREATE INDEX products_source_sku ON mirror.products (source, sku);

CREATE TABLE mirror.product_variants (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    product_external_id text NOT NULL,
    external_id         text NOT NULL,
    position            integer NOT NULL,
    sku                 text,
    price               numeric,
    stock_quantity      bigint,
    weight              numeric,
    PRIMARY KEY (source, store_id, product_external_id, position)
);
COMMENT ON TABLE mirror.product_variants IS 'Variants of a product: exactly those in the latest applied snapshot of the product.';
COMMENT ON COLUMN mirror.product_variants.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.product_variants.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.product_variants.product_external_id IS 'The product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.product_variants.external_id IS 'The provider''s variant id.';
COMMENT ON COLUMN mirror.product_variants.position IS 'Order of the variant in the snapshot, from 0.';
COMMENT ON COLUMN mirror.product_variants.sku IS 'Variant SKU.';
COMMENT ON COLUMN mirror.product_variants.price IS 'Variant price.';
COMMENT ON COLUMN mirror.product_variants.stock_quantity IS 'Units in stock; NULL = unknown.';
COMMENT ON COLUMN mirror.product_variants.weight IS 'Weight, in the provider''s unit.';
CREATE INDEX product_variants_source_external_id ON mirror.product_variants (source, external_id);

CREATE TABLE mirror.variant_attributes (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    product_external_id text NOT NULL,
    variant_position    integer NOT NULL,
    variant_external_id text,
    position            integer NOT NULL,
    attribute_name      text,
    option_name         text,
    PRIMARY KEY (source, store_id, product_external_id, variant_position, position)
);
COMMENT ON TABLE mirror.variant_attributes IS 'One row per attribute of a variant (color: blue, size: small).';
COMMENT ON COLUMN mirror.variant_attributes.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.variant_attributes.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.variant_attributes.product_external_id IS 'The product the variant belongs to.';
COMMENT ON COLUMN mirror.variant_attributes.variant_position IS 'Position of the variant in the product (mirror.product_variants.position).';
COMMENT ON COLUMN mirror.variant_attributes.variant_external_id IS 'The variant (mirror.product_variants.external_id).';
COMMENT ON COLUMN mirror.variant_attributes.position IS 'Order of the attribute on the variant, from 0.';
COMMENT ON COLUMN mirror.variant_attributes.attribute_name IS 'Attribute, e.g. color.';
COMMENT ON COLUMN mirror.variant_attributes.option_name IS 'Chosen option, e.g. blue.';
CREATE INDEX variant_attributes_source_variant_external_id ON mirror.variant_attributes (source, variant_external_id);

CREATE TABLE mirror.bundle_items (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    bundle_external_id  text NOT NULL,
    position            integer NOT NULL,
    product_external_id text,
    product_name        text,
    quantity            integer,
    PRIMARY KEY (source, store_id, bundle_external_id, position)
);
COMMENT ON TABLE mirror.bundle_items IS 'Products included in a bundle, as the latest snapshot of the bundle lists them.';
COMMENT ON COLUMN mirror.bundle_items.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.bundle_items.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.bundle_items.bundle_external_id IS 'The bundle (mirror.products.external_id, kind = bundle).';
COMMENT ON COLUMN mirror.bundle_items.position IS 'Order in the bundle, from 0.';
COMMENT ON COLUMN mirror.bundle_items.product_external_id IS 'The included product.';
COMMENT ON COLUMN mirror.bundle_items.product_name IS 'Name of the included product as the bundle lists it.';
COMMENT ON COLUMN mirror.bundle_items.quantity IS 'Units of the product in the bundle, where given.';
CREATE INDEX bundle_items_source_product_external_id ON mirror.bundle_items (source, product_external_id);

CREATE TABLE mirror.product_images (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    product_external_id text NOT NULL,
    position            integer NOT NULL,
    external_id         text,
    url                 text,
    is_default          boolean,
    PRIMARY KEY (source, store_id, product_external_id, position)
);
COMMENT ON TABLE mirror.product_images IS 'Images of a product, as its latest snapshot lists them.';
COMMENT ON COLUMN mirror.product_images.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.product_images.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.product_images.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.product_images.position IS 'Order in the snapshot, from 0.';
COMMENT ON COLUMN mirror.product_images.external_id IS 'The provider''s image id, where it has one.';
COMMENT ON COLUMN mirror.product_images.url IS 'Image URL.';
COMMENT ON COLUMN mirror.product_images.is_default IS 'Whether this is the product''s main image.';

CREATE TABLE mirror.product_custom_fields (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    product_external_id text NOT NULL,
    position            integer NOT NULL,
    external_id         text,
    name                text,
    token_key           text,
    value               text,
    PRIMARY KEY (source, store_id, product_external_id, position)
);
COMMENT ON TABLE mirror.product_custom_fields IS 'Custom fields (and metadata key/values) of a product, one row per value.';
COMMENT ON COLUMN mirror.product_custom_fields.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.product_custom_fields.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.product_custom_fields.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.product_custom_fields.position IS 'Order in the snapshot, from 0.';
COMMENT ON COLUMN mirror.product_custom_fields.external_id IS 'The provider''s custom field id.';
COMMENT ON COLUMN mirror.product_custom_fields.name IS 'Field name.';
COMMENT ON COLUMN mirror.product_custom_fields.token_key IS 'Field token/key.';
COMMENT ON COLUMN mirror.product_custom_fields.value IS 'Field value.';

CREATE TABLE mirror.product_changes (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    id                  bigserial,
    product_external_id text NOT NULL,
    field               text NOT NULL,
    old_value           text,
    new_value           text,
    changed_at          timestamptz NOT NULL,
    origin              text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);
COMMENT ON TABLE mirror.product_changes IS 'Append-only history of product field changes as the mirror applied them: one row per changed field (name, status, sku, price, price_min, price_max, min_face_value, max_face_value, stock_quantity).';
COMMENT ON COLUMN mirror.product_changes.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.product_changes.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.product_changes.id IS 'Row id.';
COMMENT ON COLUMN mirror.product_changes.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.product_changes.field IS 'The mirror.products column that changed.';
COMMENT ON COLUMN mirror.product_changes.old_value IS 'Value before, as text (NULL = none/unlimited).';
COMMENT ON COLUMN mirror.product_changes.new_value IS 'Value after, as text (NULL = none/unlimited).';
COMMENT ON COLUMN mirror.product_changes.changed_at IS 'The provider''s time of the change.';
COMMENT ON COLUMN mirror.product_changes.origin IS 'What applied it: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.product_changes.recorded_at IS 'When storemirror recorded it.';
CREATE INDEX product_changes_source_product_external_id_changed_at ON mirror.product_changes (source, product_external_id, changed_at);
CREATE INDEX product_changes_changed_at ON mirror.product_changes (changed_at);

CREATE TABLE mirror.orders (
    source               text NOT NULL,
    store_id             text NOT NULL DEFAULT '',
    external_id          text NOT NULL,
    order_number         text,
    request_id           text,
    customer_external_id text,
    status               text,
    payment_status       text,
    currency             text,
    total                numeric,
    total_cards          integer,
    placed_at            timestamptz,
    paid_at              timestamptz,
    completed_at         timestamptz,
    fulfilled_at         timestamptz,
    cancelled_at         timestamptz,
    refunded_at          timestamptz,
    refunded_amount      numeric,
    refund_reason        text,
    customer_phone       text,
    customer_phone_e164  text,
    customer_email       text,
    customer_name        text,
    source_updated_at    timestamptz,
    deleted_at           timestamptz,
    mirrored_at          timestamptz NOT NULL DEFAULT now(),
    origin               text NOT NULL DEFAULT 'webhook',
    raw                  jsonb,
    versions             jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.orders IS 'Orders from every source. Partial events (paid, refunded...) patch only their own fields.';
COMMENT ON COLUMN mirror.orders.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.orders.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.orders.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.orders.order_number IS 'The human order number (ORD-000001).';
COMMENT ON COLUMN mirror.orders.request_id IS 'Bamboo client request id (GUID).';
COMMENT ON COLUMN mirror.orders.customer_external_id IS 'The customer (mirror.customers.external_id).';
COMMENT ON COLUMN mirror.orders.status IS 'Order status as the provider spells it.';
COMMENT ON COLUMN mirror.orders.payment_status IS 'Payment status as the provider spells it.';
COMMENT ON COLUMN mirror.orders.currency IS 'ISO currency.';
COMMENT ON COLUMN mirror.orders.total IS 'Order total.';
COMMENT ON COLUMN mirror.orders.total_cards IS 'Number of gift cards in the order (Bamboo).';
COMMENT ON COLUMN mirror.orders.placed_at IS 'When the order was placed.';
COMMENT ON COLUMN mirror.orders.paid_at IS 'When payment was confirmed.';
COMMENT ON COLUMN mirror.orders.completed_at IS 'When the order reached its final state (Bamboo).';
COMMENT ON COLUMN mirror.orders.fulfilled_at IS 'When it was fulfilled/shipped.';
COMMENT ON COLUMN mirror.orders.cancelled_at IS 'When it was cancelled.';
COMMENT ON COLUMN mirror.orders.refunded_at IS 'When it was refunded (the refund event''s time).';
COMMENT ON COLUMN mirror.orders.refunded_amount IS 'Amount refunded.';
COMMENT ON COLUMN mirror.orders.refund_reason IS 'Reason given for the refund.';
COMMENT ON COLUMN mirror.orders.customer_phone IS 'Customer phone as given.';
COMMENT ON COLUMN mirror.orders.customer_phone_e164 IS 'Customer phone in E.164 form, where it parses.';
COMMENT ON COLUMN mirror.orders.customer_email IS 'Customer email.';
COMMENT ON COLUMN mirror.orders.customer_name IS 'Customer name.';
COMMENT ON COLUMN mirror.orders.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.orders.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.orders.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.orders.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.orders.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.orders.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX orders_source_source_updated_at ON mirror.orders (source, source_updated_at);
CREATE INDEX orders_source_status ON mirror.orders (source, status);
CREATE INDEX orders_source_placed_at ON mirror.orders (source, placed_at);
CREATE INDEX orders_source_request_id ON mirror.orders (source, request_id);
CREATE INDEX orders_source_customer_external_id ON mirror.orders (source, customer_external_id);

CREATE TABLE mirror.order_items (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    order_external_id   text NOT NULL,
    line_no             integer NOT NULL,
    product_external_id text,
    sku                 text,
    title               text,
    quantity            integer,
    unit_price          numeric,
    PRIMARY KEY (source, store_id, order_external_id, line_no)
);
COMMENT ON TABLE mirror.order_items IS 'Line items of an order, as its latest full snapshot lists them.';
COMMENT ON COLUMN mirror.order_items.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.order_items.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.order_items.order_external_id IS 'The order.';
COMMENT ON COLUMN mirror.order_items.line_no IS 'Line number, from 1.';
COMMENT ON COLUMN mirror.order_items.product_external_id IS 'The product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.order_items.sku IS 'SKU at the time of the order.';
COMMENT ON COLUMN mirror.order_items.title IS 'Product title at the time of the order.';
COMMENT ON COLUMN mirror.order_items.quantity IS 'Units.';
COMMENT ON COLUMN mirror.order_items.unit_price IS 'Price per unit.';
CREATE INDEX order_items_source_product_external_id ON mirror.order_items (source, product_external_id);

CREATE TABLE mirror.fulfillments (
    source            text NOT NULL,
    store_id          text NOT NULL DEFAULT '',
    external_id       text NOT NULL,
    order_external_id text,
    type              text,
    status            text,
    tracking_number   text,
    source_updated_at timestamptz,
    deleted_at        timestamptz,
    mirrored_at       timestamptz NOT NULL DEFAULT now(),
    origin            text NOT NULL DEFAULT 'webhook',
    raw               jsonb,
    versions          jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.fulfillments IS 'Shipments (canonical fulfillment events). A fulfillment may arrive before its order; join on order_external_id.';
COMMENT ON COLUMN mirror.fulfillments.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.fulfillments.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.fulfillments.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.fulfillments.order_external_id IS 'The order (mirror.orders.external_id).';
COMMENT ON COLUMN mirror.fulfillments.type IS 'delivery or pickup.';
COMMENT ON COLUMN mirror.fulfillments.status IS 'Fulfillment status as sent.';
COMMENT ON COLUMN mirror.fulfillments.tracking_number IS 'Carrier tracking number.';
COMMENT ON COLUMN mirror.fulfillments.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.fulfillments.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.fulfillments.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.fulfillments.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.fulfillments.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.fulfillments.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX fulfillments_source_order_external_id ON mirror.fulfillments (source, order_external_id);
CREATE INDEX fulfillments_source_status ON mirror.fulfillments (source, status);

CREATE TABLE mirror.checkouts (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    external_id         text NOT NULL,
    customer_phone      text,
    customer_phone_e164 text,
    customer_email      text,
    recover_url         text,
    total               numeric,
    currency            text,
    source_updated_at   timestamptz,
    deleted_at          timestamptz,
    mirrored_at         timestamptz NOT NULL DEFAULT now(),
    origin              text NOT NULL DEFAULT 'webhook',
    raw                 jsonb,
    versions            jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.checkouts IS 'Abandoned checkouts to recover (canonical checkout events).';
COMMENT ON COLUMN mirror.checkouts.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.checkouts.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.checkouts.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.checkouts.customer_phone IS 'Customer phone as given.';
COMMENT ON COLUMN mirror.checkouts.customer_phone_e164 IS 'Customer phone in E.164 form, where it parses.';
COMMENT ON COLUMN mirror.checkouts.customer_email IS 'Customer email.';
COMMENT ON COLUMN mirror.checkouts.recover_url IS 'Link that restores the checkout.';
COMMENT ON COLUMN mirror.checkouts.total IS 'Checkout total.';
COMMENT ON COLUMN mirror.checkouts.currency IS 'ISO currency.';
COMMENT ON COLUMN mirror.checkouts.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.checkouts.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.checkouts.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.checkouts.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.checkouts.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.checkouts.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX checkouts_source_source_updated_at ON mirror.checkouts (source, source_updated_at);

CREATE TABLE mirror.checkout_items (
    source               text NOT NULL,
    store_id             text NOT NULL DEFAULT '',
    checkout_external_id text NOT NULL,
    line_no              integer NOT NULL,
    product_external_id  text,
    sku                  text,
    title                text,
    quantity             integer,
    unit_price           numeric,
    PRIMARY KEY (source, store_id, checkout_external_id, line_no)
);
COMMENT ON TABLE mirror.checkout_items IS 'Line items of an abandoned checkout.';
COMMENT ON COLUMN mirror.checkout_items.source IS 'The configured source name.';
COMMENT ON COLUMN mirror.checkout_items.store_id IS 'The provider''s store id ('''' when none).';
COMMENT ON COLUMN mirror.checkout_items.checkout_external_id IS 'The checkout.';
COMMENT ON COLUMN mirror.checkout_items.line_no IS 'Line number, from 1.';
COMMENT ON COLUMN mirror.checkout_items.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.checkout_items.sku IS 'SKU.';
COMMENT ON COLUMN mirror.checkout_items.title IS 'Product title.';
COMMENT ON COLUMN mirror.checkout_items.quantity IS 'Units.';
COMMENT ON COLUMN mirror.checkout_items.unit_price IS 'Price per unit.';

CREATE TABLE mirror.customers (
    source            text NOT NULL,
    store_id          text NOT NULL DEFAULT '',
    external_id       text NOT NULL,
    email             text,
    name              text,
    phone             text,
    source_updated_at timestamptz,
    deleted_at        timestamptz,
    mirrored_at       timestamptz NOT NULL DEFAULT now(),
    origin            text NOT NULL DEFAULT 'webhook',
    raw               jsonb,
    versions          jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.customers IS 'Customers (BareCommerce).';
COMMENT ON COLUMN mirror.customers.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.customers.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.customers.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.customers.email IS 'Email.';
COMMENT ON COLUMN mirror.customers.name IS 'Name.';
COMMENT ON COLUMN mirror.customers.phone IS 'Phone as given.';
COMMENT ON COLUMN mirror.customers.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.customers.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.customers.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.customers.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.customers.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.customers.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX customers_source_source_updated_at ON mirror.customers (source, source_updated_at);
CREATE INDEX customers_source_email ON mirror.customers (source, email);

CREATE TABLE mirror.categories (
    source             text NOT NULL,
    store_id           text NOT NULL DEFAULT '',
    external_id        text NOT NULL,
    name               text,
    slug               text,
    description        text,
    status             text,
    parent_external_id text,
    source_updated_at  timestamptz,
    deleted_at         timestamptz,
    mirrored_at        timestamptz NOT NULL DEFAULT now(),
    origin             text NOT NULL DEFAULT 'webhook',
    raw                jsonb,
    versions           jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.categories IS 'Product categories (BareCommerce).';
COMMENT ON COLUMN mirror.categories.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.categories.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.categories.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.categories.name IS 'Name.';
COMMENT ON COLUMN mirror.categories.slug IS 'URL slug.';
COMMENT ON COLUMN mirror.categories.description IS 'Description.';
COMMENT ON COLUMN mirror.categories.status IS 'Status as the provider spells it.';
COMMENT ON COLUMN mirror.categories.parent_external_id IS 'Parent category, if any.';
COMMENT ON COLUMN mirror.categories.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.categories.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.categories.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.categories.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.categories.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.categories.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX categories_source_source_updated_at ON mirror.categories (source, source_updated_at);

CREATE TABLE mirror.pages (
    source            text NOT NULL,
    store_id          text NOT NULL DEFAULT '',
    external_id       text NOT NULL,
    title             text,
    slug              text,
    status            text,
    source_updated_at timestamptz,
    deleted_at        timestamptz,
    mirrored_at       timestamptz NOT NULL DEFAULT now(),
    origin            text NOT NULL DEFAULT 'webhook',
    raw               jsonb,
    versions          jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.pages IS 'Content pages (BareCommerce).';
COMMENT ON COLUMN mirror.pages.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.pages.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.pages.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.pages.title IS 'Title.';
COMMENT ON COLUMN mirror.pages.slug IS 'URL slug.';
COMMENT ON COLUMN mirror.pages.status IS 'Status as the provider spells it.';
COMMENT ON COLUMN mirror.pages.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.pages.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.pages.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.pages.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.pages.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.pages.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX pages_source_source_updated_at ON mirror.pages (source, source_updated_at);

CREATE TABLE mirror.media (
    source            text NOT NULL,
    store_id          text NOT NULL DEFAULT '',
    external_id       text NOT NULL,
    url               text,
    filename          text,
    mime_type         text,
    width             integer,
    height            integer,
    file_size         bigint,
    source_updated_at timestamptz,
    deleted_at        timestamptz,
    mirrored_at       timestamptz NOT NULL DEFAULT now(),
    origin            text NOT NULL DEFAULT 'webhook',
    raw               jsonb,
    versions          jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.media IS 'Media files (BareCommerce).';
COMMENT ON COLUMN mirror.media.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.media.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.media.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.media.url IS 'File URL.';
COMMENT ON COLUMN mirror.media.filename IS 'File name.';
COMMENT ON COLUMN mirror.media.mime_type IS 'MIME type.';
COMMENT ON COLUMN mirror.media.width IS 'Width in pixels.';
COMMENT ON COLUMN mirror.media.height IS 'Height in pixels.';
COMMENT ON COLUMN mirror.media.file_size IS 'Size in bytes.';
COMMENT ON COLUMN mirror.media.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.media.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.media.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.media.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.media.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.media.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX media_source_source_updated_at ON mirror.media (source, source_updated_at);

CREATE TABLE mirror.stock_notifications (
    source              text NOT NULL,
    store_id            text NOT NULL DEFAULT '',
    external_id         text NOT NULL,
    status              text,
    channel             text,
    customer_email      text,
    customer_sms        text,
    customer_language   text,
    customer_utc_offset integer,
    quantity_required   integer,
    product_external_id text,
    product_title       text,
    variant_external_id text,
    variant_title       text,
    sku                 text,
    created_at          timestamptz,
    sent_at             timestamptz,
    source_updated_at   timestamptz,
    deleted_at          timestamptz,
    mirrored_at         timestamptz NOT NULL DEFAULT now(),
    origin              text NOT NULL DEFAULT 'webhook',
    raw                 jsonb,
    versions            jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.stock_notifications IS 'Back in Stock notifications: one row per notification_id, created then sent.';
COMMENT ON COLUMN mirror.stock_notifications.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.stock_notifications.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.stock_notifications.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.stock_notifications.status IS 'created or sent.';
COMMENT ON COLUMN mirror.stock_notifications.channel IS 'email or sms, as the provider spells it.';
COMMENT ON COLUMN mirror.stock_notifications.customer_email IS 'Customer email.';
COMMENT ON COLUMN mirror.stock_notifications.customer_sms IS 'Customer SMS number.';
COMMENT ON COLUMN mirror.stock_notifications.customer_language IS 'Customer language (en-GB).';
COMMENT ON COLUMN mirror.stock_notifications.customer_utc_offset IS 'Customer UTC offset in seconds.';
COMMENT ON COLUMN mirror.stock_notifications.quantity_required IS 'Units the customer wants.';
COMMENT ON COLUMN mirror.stock_notifications.product_external_id IS 'Shopify product id.';
COMMENT ON COLUMN mirror.stock_notifications.product_title IS 'Product title.';
COMMENT ON COLUMN mirror.stock_notifications.variant_external_id IS 'Shopify variant id.';
COMMENT ON COLUMN mirror.stock_notifications.variant_title IS 'Variant title.';
COMMENT ON COLUMN mirror.stock_notifications.sku IS 'Variant SKU.';
COMMENT ON COLUMN mirror.stock_notifications.created_at IS 'When the customer signed up.';
COMMENT ON COLUMN mirror.stock_notifications.sent_at IS 'When the notification was sent.';
COMMENT ON COLUMN mirror.stock_notifications.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.stock_notifications.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.stock_notifications.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.stock_notifications.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.stock_notifications.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.stock_notifications.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX stock_notifications_source_status ON mirror.stock_notifications (source, status);
CREATE INDEX stock_notifications_source_product_external_id ON mirror.stock_notifications (source, product_external_id);
CREATE INDEX stock_notifications_source_created_at ON mirror.stock_notifications (source, created_at);

CREATE TABLE mirror.stock_demand (
    source                     text NOT NULL,
    store_id                   text NOT NULL DEFAULT '',
    external_id                text NOT NULL,
    product_external_id        text,
    sku                        text,
    description                text,
    unit_price                 numeric,
    notifications_count        integer,
    sent_notifications_count   integer,
    unsent_notifications_count integer,
    notification_last_added_at timestamptz,
    source_updated_at          timestamptz,
    deleted_at                 timestamptz,
    mirrored_at                timestamptz NOT NULL DEFAULT now(),
    origin                     text NOT NULL DEFAULT 'webhook',
    raw                        jsonb,
    versions                   jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, store_id, external_id)
);
COMMENT ON TABLE mirror.stock_demand IS 'Back in Stock demand per variant, from its variants report (reconciler): how many customers wait for each variant.';
COMMENT ON COLUMN mirror.stock_demand.source IS 'The configured source name this row came from (e.g. bamboo).';
COMMENT ON COLUMN mirror.stock_demand.store_id IS 'The provider''s store id, where the provider has several stores per account; '''' otherwise.';
COMMENT ON COLUMN mirror.stock_demand.external_id IS 'The provider''s id for this row, as text.';
COMMENT ON COLUMN mirror.stock_demand.product_external_id IS 'Shopify product id.';
COMMENT ON COLUMN mirror.stock_demand.sku IS 'Variant SKU.';
COMMENT ON COLUMN mirror.stock_demand.description IS 'Product/variant description from the report.';
COMMENT ON COLUMN mirror.stock_demand.unit_price IS 'Unit price from the report.';
COMMENT ON COLUMN mirror.stock_demand.notifications_count IS 'All notifications for the variant.';
COMMENT ON COLUMN mirror.stock_demand.sent_notifications_count IS 'Notifications already sent.';
COMMENT ON COLUMN mirror.stock_demand.unsent_notifications_count IS 'Customers still waiting.';
COMMENT ON COLUMN mirror.stock_demand.notification_last_added_at IS 'When the latest notification was added.';
COMMENT ON COLUMN mirror.stock_demand.source_updated_at IS 'The provider''s version of the row: the newest provider time of any change applied to it (UTC).';
COMMENT ON COLUMN mirror.stock_demand.deleted_at IS 'When the provider deleted the row (the delete event''s time); NULL while it exists. Rows are never removed.';
COMMENT ON COLUMN mirror.stock_demand.mirrored_at IS 'When storemirror last changed this row.';
COMMENT ON COLUMN mirror.stock_demand.origin IS 'What last changed the row: webhook, reconcile or replay.';
COMMENT ON COLUMN mirror.stock_demand.raw IS 'The latest provider object as received (partial events are merged into it).';
COMMENT ON COLUMN mirror.stock_demand.versions IS 'storemirror bookkeeping: the version (provider time/receive order) of each field, so late events never overwrite newer ones. Not for analysis.';
CREATE INDEX stock_demand_source_unsent_notifications_count ON mirror.stock_demand (source, unsent_notifications_count);

-- +goose Down
DROP SCHEMA mirror CASCADE;
