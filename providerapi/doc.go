// Package providerapi is the outbound HTTP client the reconciler's pullers call providers' APIs
// with: one request at a time under a rate limit, a timeout per request, HTTP Basic or Bearer
// credentials, and capped exponential backoff with jitter on 429, 5xx and timeouts. Each
// provider package (webhooks/<provider>) builds its Puller on a Client; package webhooks, the
// HTTP server, does not call out.
package providerapi
