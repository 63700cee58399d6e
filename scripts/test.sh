#!/usr/bin/env bash
# The whole test suite: starts the database servers if needed, then runs every test of
# the workspace (unit, snapshot, property, compile-fail and real-database tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
cargo test --workspace --all-targets
cargo test --workspace --doc
