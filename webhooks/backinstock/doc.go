// Package backinstock is the Back in Stock provider: notification/create and notification/sent
// webhooks signed like Shopify's (base64 HMAC-SHA256 of the body keyed with the API key, in
// X-BIS-Signature), mirrored to mirror.stock_notifications, and the variants report client the
// reconciler pulls into mirror.stock_demand.
package backinstock
