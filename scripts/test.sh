#!/usr/bin/env bash
# Runs every test of the workspace against real PostgreSQL and Redis, and
# the web pages' tests in headless Chromium, setting all of them up first
# (see ensure-services.sh and examples/scripts/ensure-browser.sh).
# This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
bash examples/scripts/ensure-browser.sh
cargo test --workspace --all-features --locked "$@"
