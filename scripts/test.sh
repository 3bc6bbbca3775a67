#!/usr/bin/env bash
# Install everything the test suite needs and run all of it: unit, integration, security,
# browser (headless Chromium) and the example notebooks under nbval. Offline: no API keys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,browser
# the team-log tests' DuckDB (1.5.5 + its lake extensions) beside the base one (2.x)
bash scripts/setup_team_site.sh
# system packages the tests need: Chromium (browser tests), bubblewrap (the command sandbox)
# and PostgreSQL's server (the team log's catalog in tests/team)
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing="$missing postgresql"
fi
# as root, or through passwordless sudo (a CI runner's usual account)
as_root=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then as_root="sudo -n"; else as_root="none"; fi
fi
if [ -n "$missing" ] && [ "$as_root" != "none" ] && command -v apt-get >/dev/null 2>&1; then
  $as_root apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing >/dev/null
fi
# the sandbox tests fail rather than skip wherever bubblewrap could be installed (root or
# passwordless sudo, and apt-get); elsewhere they are skipped with the reason, as is a
# machine that cannot have the package at all
if command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$as_root" != "none" ]; then
  export MIRA_REQUIRE_BWRAP=1
fi
# likewise the team-log tests (PostgreSQL, duckdb 1.5.5) fail rather than skip there
if command -v apt-get >/dev/null 2>&1 && [ "$as_root" != "none" ]; then
  export MIRA_REQUIRE_TEAM=1
fi
# keys of the person running the tests must never reach a test
unset OPENAI_API_KEY DEEPSEEK_API_KEY OPENROUTER_API_KEY MIRA_COMPATIBLE_API_KEY
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
