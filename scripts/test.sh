#!/usr/bin/env bash
# Runs every test of the workspace. Installs what the tests need and the machine lacks, then runs
# `cargo test --workspace`. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

# The WooCommerce samples the golden tests compare against live beside the repository
# (../shared/reference/woocommerce-samples); say so early rather than failing deep in a test.
if [ ! -d ../shared/reference/woocommerce-samples ]; then
  echo "warning: ../shared/reference/woocommerce-samples is missing; the golden tests will fail" >&2
fi

# The browser test drives the wizard in Debian's headless Chromium through chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver for the browser test" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi
# From here on, a missing browser is a failure, not a skip.
export TTWC_REQUIRE_BROWSER=1

if [ -z "${TTWC_TEST_POSTGRES_URL:-}" ]; then
  echo "note: TTWC_TEST_POSTGRES_URL is not set: tests that need PostgreSQL will say they were skipped" >&2
fi

exec cargo test --workspace --locked "$@"
