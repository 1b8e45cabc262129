#!/usr/bin/env bash
# make test: everything the tests need, on a fresh machine of this kind.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

# ---- install what is missing ----
need_apt=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  step "installing browser-test packages (npm ci)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- static checks ----
step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^vendor/') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi
step "go vet"
go vet ./...
step "go mod tidy check"
cp go.mod /tmp/steward-go.mod.bak; cp go.sum /tmp/steward-go.sum.bak
go mod tidy
if ! git diff --quiet -- go.mod go.sum; then
  echo "go.mod/go.sum are not tidy:"; git diff -- go.mod go.sum | head -40
  cp /tmp/steward-go.mod.bak go.mod; cp /tmp/steward-go.sum.bak go.sum; exit 1
fi

# ---- throwaway PostgreSQL ----
pgdir=$(mktemp -d /tmp/steward-pg.XXXXXX)
export TESTPG_PORT=${TESTPG_PORT:-$((20000 + RANDOM % 20000))}
cleanup() { bash "$root/scripts/testpg.sh" stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
step "starting PostgreSQL on port $TESTPG_PORT"
STEWARD_TEST_PG=$(bash scripts/testpg.sh start "$pgdir")
export STEWARD_TEST_PG STEWARD_TEST_REQUIRE_PG=1

# ---- Go tests on SQLite and PostgreSQL ----
step "go test -race (kernel)"
go test -race -count=1 ./internal/platform/...
step "go test (everything else)"
go test -count=1 $(go list ./... | grep -v /internal/platform/)

# ---- fuzz smoke runs ----
step "fuzz smoke"
# Budgets are counts of executions (about 10 to 15 s each here), not durations:
# a duration races Go's fuzz coordinator at its deadline and can fail a run
# that found nothing with "context deadline exceeded" (go.dev/issue/75804,
# fixed in Go 1.27).
go test -run='^$' -fuzz='^FuzzDecodeRequest$' -fuzztime=15000x ./internal/app/
go test -run='^$' -fuzz='^FuzzParseCSV$' -fuzztime=300000x ./internal/transition/cmdb/reconcile/
go test -run='^$' -fuzz='^FuzzParseJSON$' -fuzztime=300000x ./internal/transition/cmdb/reconcile/
go test -run='^$' -fuzz='^FuzzParseCSV$' -fuzztime=60000x ./internal/transition/asset/
go test -run='^$' -fuzz='^FuzzParse$' -fuzztime=100000x ./internal/operation/incident/servicenow/
go test -run='^$' -fuzz='^FuzzParseMessage$' -fuzztime=30000x ./internal/platform/mail/
go test -run='^$' -fuzz='^FuzzScanChanges$' -fuzztime=300000x ./internal/design/servicelevel/sla/

# ---- browser tests ----
step "browser tests (Chromium)"
go build -o bin/steward ./cmd/steward
(cd tests/browser && STEWARD_BIN="$root/bin/steward" node --test --test-concurrency=1 ./*.test.mjs)

step "all tests passed"
