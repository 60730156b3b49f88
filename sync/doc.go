// Package sync is storemirror's domain: the normalized entities every provider is translated into
// (Product, Order, StockNotification, ...), the Change that carries one event's news about one
// entity, the inbox Worker that applies stored webhook events, and the Reconciler that pulls
// provider APIs to fill in what webhooks missed.
//
// Data flows one way: provider bytes → (webhooks/<provider>) → []Change → (store) → mirror rows.
// This package imports no other storemirror package. Its name shadows the standard library's
// sync, which is imported here as stdsync.
package sync
