// Package barecommerce is the BareCommerce provider: webhooks signed with a hex HMAC-SHA256 of
// the body (X-Webhook-Signature), order/product/customer/category/page/media events applied as
// patches, and the store API client (limit/offset listings) the reconciler pulls.
package barecommerce
