// Package faults holds the fault tests: the real storemirror binary, built by the tests, run
// against a real PostgreSQL under load from the load generator, while it is killed with SIGKILL,
// run three at a time on one database, or cut off from a database that is stopped. They check
// what a provider relies on: every delivery answered 2xx is stored and applied exactly once.
// The package has no code of its own; `make test` runs it with the rest of the suite.
package faults
