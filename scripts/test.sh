#!/usr/bin/env bash
# Install everything the test suite needs and run all of it: unit, integration, security,
# browser (headless Chromium) and the example notebooks under nbval. Offline: no API keys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,browser
# system packages the tests need: Chromium (browser tests) and bubblewrap (the command sandbox)
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
if [ -n "$missing" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
# the sandbox tests fail rather than skip when bubblewrap cannot confine a command here
if command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export MIRA_REQUIRE_BWRAP=1
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
