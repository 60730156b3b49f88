package webhooks

import (
	"errors"
	"net/http"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Errors a Verifier returns; statusOf maps them to HTTP statuses.
var (
	// ErrUnauthorized: the signature is missing or wrong, or its timestamp is outside the tolerance.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: no such source, path, or store.
	ErrNotFound = mirrorsync.ErrNotFound
	// ErrBadRequest: a request the API cannot take (a malformed admin request).
	ErrBadRequest = mirrorsync.ErrInvalid
	// errShuttingDown: the daemon is stopping and takes no more deliveries.
	errShuttingDown = errors.New("shutting down")
)

// statusOf is the one place an error becomes an HTTP status. Anything unexpected is a 503: the
// trouble is ours, and a provider that sees 503 retries later.
func statusOf(err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusServiceUnavailable
}
