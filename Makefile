# storemirror. `make run` and `make test` need nothing running: scripts/pg starts a throwaway
# PostgreSQL (installing the Debian package if it is missing) unless STOREMIRROR_DATABASE_URL is set.

GO      ?= go
BIN     := bin/storemirror
SANDBOX := bin/storemirror-sandbox
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CONFIG  ?= config.example.yaml

.PHONY: build run test bench bench-scale profile lint demo status check-config fuzz docs clean

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/storemirror

# Build, start PostgreSQL if needed, start the sandbox's fake provider APIs, migrate, and run the
# daemon with config.example.yaml and the development values of dev.env (its reconciler pulls
# the sandbox). Ctrl-C stops the daemon, the sandbox and the throwaway database.
run: build
	$(GO) build -o $(SANDBOX) ./cmd/storemirror-sandbox
	@set -a; . ./dev.env; set +a; scripts/pg run scripts/run-dev $(BIN) $(CONFIG) $(SANDBOX)

# The race detector needs cgo, so a C compiler; without one the suite runs without it.
RACE ?= $(shell command -v gcc >/dev/null 2>&1 && echo -race)

# The whole suite against a real PostgreSQL (fsync off: the data is thrown away).
test:
	PG_FAST=1 scripts/pg run $(GO) test $(RACE) -count=1 -timeout 20m ./...

# Benchmarks, against durable PostgreSQL: the in-process ones (apply rates, the reconcile pass),
# then the whole path (cmd/storemirror-bench: a load generator against `storemirror serve`,
# beside pgbench on the same server), whose figures go into README.md. BEFORE=<commit> measures
# the binary of that commit too, in the same run: make bench BEFORE=845bf81
BENCH_FLAGS ?=
BENCH_BINARIES = $(if $(BEFORE),-binary before=git:$(BEFORE) -binary after=$(BIN),-binary current=$(BIN))

bench: build
	scripts/pg run $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...
	$(GO) run ./cmd/storemirror-bench $(BENCH_BINARIES) -readme README.md $(BENCH_FLAGS)

# Growth (not in CI; an hour or more): a 5-million-event inbox, pruning 1 million expired
# events under ingest, full passes over catalogs of up to 1 million products. SCALE=0.01 tries
# it in minutes.
SCALE ?= 1
bench-scale: build
	$(GO) run ./cmd/storemirror-bench -binary current=$(BIN) -scale inbox,retention,catalog -scale-factor $(SCALE) $(BENCH_FLAGS)

# The whole-path benchmark with profiles: the daemon's CPU and blocking profiles (a -tags pprof
# build), pg_stat_statements and PostgreSQL's wait events of every run, into bin/profile/. One
# round: a profile explains where the time goes, the rounds of make bench say how much.
profile:
	$(GO) build -tags pprof -o bin/storemirror-pprof ./cmd/storemirror
	$(GO) run ./cmd/storemirror-bench -binary current=bin/storemirror-pprof -profile bin/profile -rounds 1 $(BENCH_FLAGS)

# golangci-lint with .golangci.yml: errcheck, staticcheck, govet and the other standard linters.
# Run through `go run`, so that it stays out of go.mod.
GOLANGCI_LINT ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) run $(GOLANGCI_LINT) run ./...

# Regenerate docs/data-dictionary.md from a freshly migrated database (a test fails while it is stale).
docs:
	PG_FAST=1 scripts/pg run $(GO) test -count=1 -run '^TestDataDictionaryIsCurrent$$' ./docs -update

# Post one signed sample of each provider to the daemon `make run` started, and print the rows.
demo:
	@set -a; . ./dev.env; set +a; $(GO) run ./cmd/storemirror-demo -config $(CONFIG)

# `storemirror status` against the database `make run` started (its URL is in .run/database-url),
# with the development secrets of dev.env that the configuration needs.
status: build
	@set -a; . ./dev.env; set +a; STOREMIRROR_DATABASE_URL=$$(cat .run/database-url) $(BIN) status --config $(CONFIG)

check-config: build
	@set -a; . ./dev.env; set +a; STOREMIRROR_DATABASE_URL=$${STOREMIRROR_DATABASE_URL:-postgres://localhost/storemirror} $(BIN) check-config --config $(CONFIG)

# Run every fuzz target of the module for a while (FUZZTIME=30s each by default). scripts/fuzz
# finds them in the packages' test files; `scripts/fuzz --list` shows them.
FUZZTIME ?= 30s
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz

clean:
	rm -rf bin
