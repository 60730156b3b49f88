// Package canonical is the canonical event API, for platforms without an adapter: they map their
// data onto Vambe's App Platform shapes (order, checkout, fulfillment, product, product delete)
// and post them to /webhooks/{source}/events/{event}, signed with x-vambe-timestamp and
// x-vambe-signature (hex HMAC-SHA256 of "{timestamp}.{body}").
package canonical
