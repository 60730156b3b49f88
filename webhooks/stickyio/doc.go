// Package stickyio is the sticky.io provider: product webhooks whose bodies are base64 of
// AES-256-CBC ciphertext (IV first, PKCS#7 padding, the 32-character key phrase as key), full
// product and bundle snapshots mapped to the mirror, and the v2 products API client the
// reconciler pulls.
package stickyio
