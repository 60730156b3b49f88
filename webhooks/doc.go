// Package webhooks is storemirror's HTTP server: the router and its middleware, the webhook
// handler that verifies a delivery and commits it to the inbox before answering 2xx (with group
// commit: one INSERT and one commit for all requests waiting at that moment), health, readiness,
// metrics, and the admin API. Errors become HTTP statuses in one place, statusOf.
//
// Each provider has a package beneath this one (webhooks/bamboo, ...) that implements Verifier
// for its signature scheme, a sync.Decoder for its payloads, and the Puller the reconciler runs
// (on a providerapi.Client: the server itself never calls out).
package webhooks
