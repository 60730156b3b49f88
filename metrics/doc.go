// Package metrics is storemirror's Prometheus metrics for the apply workers and the reconciler:
// the types that count what package sync reports through its small observer interfaces
// (sync.ApplyObserver, sync.PassObserver), and the inbox backlog gauges read from the database
// at each scrape. The daemon registers them (cmd/storemirror); package sync knows nothing of
// Prometheus. The HTTP server's request metrics live with the server, in package webhooks.
package metrics
