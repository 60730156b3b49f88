// Package docs is storemirror's documentation for its users. It holds no code: its tests keep the
// documents true, by checking that the generated data dictionary matches the schema and by
// running the BI guide's example queries against a filled mirror.
package docs
