// Package docs is storemirror's documentation for its users (README.md is its index). It holds
// no code: its tests keep the documents true. They check that the generated data dictionary
// matches the schema, run the BI guide's example queries against a filled mirror, verify each
// worked signature example with its kind's real verifier, check that the canonical API's
// examples are the fixtures the canonical package's tests apply, and fail on a link to a file
// or heading that does not exist and on a citation of a document the repository does not have.
package docs
