#!/usr/bin/env bash
# Put duckdb 1.5.5 and its ducklake/postgres extension packages (what `pip install
# mira_jupyter[team]` brings) into .venv/team-site, apart from the base install's DuckDB 2.x.
# The team-log tests (tests/team) run their DuckDB work in child processes whose PYTHONPATH
# starts with this directory; everything else keeps testing the base install.
set -euo pipefail
cd "$(dirname "$0")/.."
site=.venv/team-site
pins="duckdb==1.5.5 duckdb-extension-ducklake==1.5.5 duckdb-extension-postgres==1.5.5"
if PYTHONPATH="$site" .venv/bin/python -c "import duckdb, duckdb_extension_ducklake, duckdb_extension_postgres, sys; sys.exit(duckdb.__version__ != '1.5.5')" 2>/dev/null; then
  exit 0
fi
rm -rf "$site"
# shellcheck disable=SC2086
.venv/bin/python -m pip install --quiet --no-deps --target "$site" $pins
