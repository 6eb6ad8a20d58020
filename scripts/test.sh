#!/usr/bin/env bash
# Runs every test of the workspace against real PostgreSQL and Redis,
# setting them up first (see ensure-services.sh). The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
cargo test --workspace --all-features --locked "$@"
