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

if [ -z "${TTWC_TEST_POSTGRES_URL:-}" ]; then
  echo "note: TTWC_TEST_POSTGRES_URL is not set: tests that need PostgreSQL will say they were skipped" >&2
fi

exec cargo test --workspace --locked "$@"
