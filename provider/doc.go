// Package provider is how a provider kind describes itself, once: its name in the configuration,
// how a configured source of it is validated and built (the webhook verifier and the decoder),
// the API its reconciler pulls and the credentials that API takes, and a signed sample delivery
// for `make demo`.
//
// Each provider package (webhooks/<provider>) exports one Kind. The binaries list them in one
// place (internal/kinds) and build everything from that list: config validation asks the
// kind, the wiring asks the kind, the demo asks the kind. docs/adding-a-provider.md walks through
// adding one.
package provider
