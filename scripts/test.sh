#!/usr/bin/env bash
# Runs every test of the workspace against real PostgreSQL and Redis, and
# the web pages' tests in headless Chromium, setting all of them up first
# (the calendar, email and Redis Cluster tests start their own servers on
# loopback: Radicale and aiosmtpd from PyPI, three redis-server nodes), then
# fuzzes the API with schemathesis
# (see ensure-services.sh and examples/scripts/ensure-browser.sh).
# This is the README's test command. On a machine that lacks PostgreSQL,
# Redis or Chromium it installs them with apt-get and lets PostgreSQL trust
# logins from 127.0.0.1 (pg_hba.conf); it says so before each change, and
# BOOKING_NO_SYSTEM_CHANGES=1 makes it stop instead.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "test.sh: checking for PostgreSQL, Redis and Chromium; missing ones are installed (apt-get) and pg_hba.conf may be changed, each announced first; BOOKING_NO_SYSTEM_CHANGES=1 stops instead" >&2
bash scripts/ensure-services.sh
bash examples/scripts/ensure-browser.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-features --locked --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?

# cargo prints one result line per test binary; add them up so the run ends
# with one line that says what ran.
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
summary="tests: $passed passed, $failed failed"

# The API fuzzed from its own OpenAPI description by an independent tool
# (schemathesis, installed from PyPI into a virtualenv under target/), on
# the service binary the tests above just built.
fuzz=passed
BOOKING_SERVICE_BIN="$(pwd)/target/debug/booking-service" bash examples/scripts/fuzz-api.sh || { fuzz=failed; status=1; }
summary="$summary; API fuzzing (schemathesis): $fuzz"
mkdir -p target
echo "$summary" > target/test-summary.txt
echo
echo "$summary"
exit "$status"
