#!/usr/bin/env bash
# The whole test suite: starts the database servers if needed, lints the generated
# PostgreSQL SQL with squawk (scripts/squawk.sh), then runs every test of the workspace
# (doc, unit, snapshot, property, compile-fail and real-database tests) and ends with
# one line that sums them up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/squawk.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --doc 2>&1 | tee "$log"
cargo test --workspace --all-targets 2>&1 | tee -a "$log"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
