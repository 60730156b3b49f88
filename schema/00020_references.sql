-- Every column that holds another mirror row's external_id says so in its comment, in one form:
-- "(mirror.<table>.external_id)". `storemirror docs` reads that form from the database to write
-- the dbt relationships tests and the dictionary's joins, so a reference is declared once, here,
-- beside the column, and never in a list kept elsewhere. (There are still no foreign keys: a
-- child may arrive before its parent, and the mirror never refuses data.)

-- +goose Up
COMMENT ON COLUMN mirror.products.category_external_id IS 'The product''s category (mirror.categories.external_id).';
COMMENT ON COLUMN mirror.variant_attributes.product_external_id IS 'The product the variant belongs to (mirror.products.external_id).';
COMMENT ON COLUMN mirror.bundle_items.product_external_id IS 'The included product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.product_images.product_external_id IS 'The product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.product_custom_fields.product_external_id IS 'The product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.product_changes.product_external_id IS 'The product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.order_items.order_external_id IS 'The order (mirror.orders.external_id).';
COMMENT ON COLUMN mirror.checkout_items.checkout_external_id IS 'The checkout (mirror.checkouts.external_id).';
COMMENT ON COLUMN mirror.checkout_items.product_external_id IS 'The product (mirror.products.external_id).';
COMMENT ON COLUMN mirror.categories.parent_external_id IS 'The parent category, if any (mirror.categories.external_id).';
-- Back in Stock names Shopify's products, which the mirror holds only if another source mirrors
-- that store: these are ids, not references.
COMMENT ON COLUMN mirror.stock_notifications.product_external_id IS 'Shopify product id (not a mirror.products row unless another source mirrors that Shopify store).';
COMMENT ON COLUMN mirror.stock_demand.product_external_id IS 'Shopify product id (not a mirror.products row unless another source mirrors that Shopify store).';

-- +goose Down
COMMENT ON COLUMN mirror.products.category_external_id IS 'Provider id of the product''s category.';
COMMENT ON COLUMN mirror.variant_attributes.product_external_id IS 'The product the variant belongs to.';
COMMENT ON COLUMN mirror.bundle_items.product_external_id IS 'The included product.';
COMMENT ON COLUMN mirror.product_images.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.product_custom_fields.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.product_changes.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.order_items.order_external_id IS 'The order.';
COMMENT ON COLUMN mirror.checkout_items.checkout_external_id IS 'The checkout.';
COMMENT ON COLUMN mirror.checkout_items.product_external_id IS 'The product.';
COMMENT ON COLUMN mirror.categories.parent_external_id IS 'Parent category, if any.';
COMMENT ON COLUMN mirror.stock_notifications.product_external_id IS 'Shopify product id.';
COMMENT ON COLUMN mirror.stock_demand.product_external_id IS 'Shopify product id.';
