// Package bamboo is the Bamboo (Bamboo Card Portal) provider: Svix-signed webhooks
// (productupdated.v1 diffs with oldState/newState, ordercompleted.v1), the older "Notification
// URL" order callback (a secretKey echoed in the body), and the catalog/order API client the
// reconciler pulls.
package bamboo
