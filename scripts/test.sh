#!/usr/bin/env bash
# Runs every test of the workspace: installs what the tests need and the machine lacks, uses the
# local PostgreSQL when one answers, runs `cargo test --workspace --no-fail-fast`, then lists every
# test that was skipped and why. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive the wizard and the dashboard in Debian's headless Chromium through
# chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver for the browser tests" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi
# From here on, a missing browser is a failure, not a skip.
export TTWC_REQUIRE_BROWSER=1

# The PostgreSQL tests run against the server of TTWC_TEST_POSTGRES_URL; when it is not set and
# a server answers on the default address, that one.
if [ -z "${TTWC_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
  && pg_isready -q -h 127.0.0.1 -p 5432; then
  export TTWC_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test
fi
if [ -z "${TTWC_TEST_POSTGRES_URL:-}" ]; then
  echo "note: no PostgreSQL answers on 127.0.0.1:5432 and TTWC_TEST_POSTGRES_URL is not set:" \
    "the PostgreSQL tests will be skipped (listed at the end)" >&2
fi

# Each skipped test writes one line here (crates/testkit); the list is printed at the end.
mkdir -p target
skips="$PWD/target/test-skips.txt"
: >"$skips"
export TTWC_TEST_SKIPS="$skips"

# --no-fail-fast: one failing test program must not hide the results of the others. The output
# is kept (target/test-output.txt) to add up every program's "test result" line at the end.
log="$PWD/target/test-output.txt"
set +e
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

echo
skipped=$(wc -l <"$skips")
awk -v skipped="$skipped" '/^test result:/ { programs++; passed += $4; failed += $6; ignored += $8 }
  END { printf "=== %d test programs: %d passed, %d skipped, %d failed, %d ignored\n",
        programs, passed - skipped, skipped, failed, ignored }' "$log"
if [ "$skipped" -gt 0 ]; then
  echo "=== $skipped test(s) SKIPPED — they did not run:"
  sed 's/^/  /' "$skips"
  if [ "${TTWC_NO_SKIPS:-0}" = 1 ]; then
    echo "TTWC_NO_SKIPS=1: a skipped test fails the run" >&2
    status=1
  fi
else
  echo "=== no test was skipped"
fi
if [ "$status" -ne 0 ]; then
  echo "=== the run FAILED (see above)" >&2
fi
exit "$status"
