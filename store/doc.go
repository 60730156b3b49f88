// Package store is storemirror's PostgreSQL layer, and the only place with SQL: the webhook inbox,
// the mirror writes (a field-by-field last-writer-wins merge, see merge.go), reconcile runs and
// their bookkeeping, advisory locks, and the migrations of package schema.
//
// Each exported method of DB is one unit of work in one transaction.
package store
