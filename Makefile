# Steward: `make run` starts it, `make test` tests it. See README.md.
GO        ?= go
BIN       := bin/steward
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X steward/internal/app.Version=$(VERSION)
ENGINE    ?= sqlite
SCALE     ?= small
DURATION  ?= 10s
BENCHFLAGS ?=

.PHONY: run build test test-go test-browser fuzz bench fmt vet clean

run:
	$(GO) run ./cmd/steward serve

# Loads the demo organisation, with three months of history, into a fresh
# ./steward-data and prints the demo accounts; then `make run`.
.PHONY: demo
demo:
	$(GO) run ./cmd/steward demo

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/steward

# The one test command: installs what is missing, starts and stops its own
# PostgreSQL, runs format and vet checks, the Go tests on both engines (-race on
# the kernel), a fuzz smoke run and the browser tests.
test:
	bash scripts/test.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

# Benchmarks run the real server on generated data; never part of `make test`.
bench: build
	$(GO) run ./bench -bin $(BIN) -engine $(ENGINE) -scale $(SCALE) -duration $(DURATION) $(BENCHFLAGS)

clean:
	rm -rf bin steward-data
