#!/usr/bin/env bash
# Lints the PostgreSQL SQL the project generates with squawk (a PostgreSQL migration
# linter, from the npm registry): the SQL of every operation kind, forward and backward,
# as the runtime runs it on tables that hold rows, and the example app's migrations as
# `migrate script` writes them. Every rule about locks that block reads or writes must
# report nothing. Installs squawk-cli into target/tools the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.66.0
tools=target/tools/squawk
squawk="$tools/node_modules/.bin/squawk"
if [[ ! -x "$squawk" ]] || [[ "$("$squawk" --version)" != "squawk $version" ]]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" "squawk-cli@$version" >/dev/null
fi

out=target/squawk-sql
rm -rf "$out"
mkdir -p "$out"
cargo run -q -p chakra-tests --bin postgres_sql -- "$out"
cargo run -q -p example-app -- migrate script --dialect postgres >"$out/example-app.sql"

# Rules left out, and why:
# - require-statement-timeout: a statement timeout would abort the long scans that the
#   online forms run while writes go on (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT);
#   what can block other sessions is bounded by lock_timeout instead, which the runtime
#   sets for every statement (migrations-runtime/src/migrator/lock_wait.rs) and which
#   require-lock-timeout checks here.
# - prefer-robust-stmts: re-running a migration is the runtime's job, not IF NOT EXISTS:
#   it records progress after every phase and goes on from there after a crash
#   (migrator/phases.rs), and never runs a committed phase twice.
# - ban-drop-table, ban-drop-column, ban-drop-not-null, renaming-table, renaming-column:
#   about clients that still use the old shape, not about locks. A drop is DATA LOSS,
#   which check mode makes a person acknowledge (migrations-build/src/data_loss.rs); a
#   rename happens only when a model says `renamed_from`.
# - prefer-text-field, prefer-bigint-over-int, prefer-bigint-over-smallint,
#   prefer-timestamp-tz: the column types are the models' own choice.
# - prefer-identity: likewise; keys are identities unless a model asks for `serial`
#   (`auto_increment = "serial"`, what an adopted database already has).
# changing-column-type is not left out: the files mark each type change that rewrites
# the table, which the build names as a BLOCKING REWRITE and check mode makes a person
# acknowledge, with `-- squawk-ignore changing-column-type`.
"$squawk" --pg-version 15 --reporter gcc \
  --exclude require-statement-timeout,prefer-robust-stmts,ban-drop-table,ban-drop-column,ban-drop-not-null,renaming-table,renaming-column,prefer-text-field,prefer-bigint-over-int,prefer-bigint-over-smallint,prefer-timestamp-tz,prefer-identity \
  "$out"/*.sql
echo "squawk $version: no findings in $(ls "$out"/*.sql | wc -l) files of generated PostgreSQL SQL"
