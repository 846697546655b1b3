#!/usr/bin/env bash
# Set up (scripts/setup.sh), run the guard rails (ruff check, ruff format --check, mypy, lint-imports; any
# finding stops here, before the tests), then the test suite. Extra arguments go to pytest.
# Usage: scripts/test.sh                 everything (what .ci/run runs)
#        scripts/test.sh --fast          the inner loop: tests not marked `slow` (no Ray, torture,
#                                        concurrency, resource or browser tests)
#        scripts/test.sh tests/test_cut.py -k edl    one file / some tests
set -euo pipefail
cd "$(dirname "$0")/.."
fast=()
if [ "${1:-}" = "--fast" ]; then
  shift
  fast=(-m "not slow")
fi
scripts/setup.sh --tests
export HF_HUB_OFFLINE=1

failed=()
check() {  # check NAME COMMAND...: run it, remember a failure, go on to the next check
  local name=$1
  shift
  "$@" || failed+=("$name")
}
check "ruff check" .venv/bin/ruff check --quiet .
check "ruff format" .venv/bin/ruff format --check --quiet .
check "mypy" .venv/bin/mypy
check "lint-imports" .venv/bin/lint-imports --no-cache --no-logo
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: guard rails failed: $(IFS=,; echo "${failed[*]}" | sed 's/,/, /g') (see above); no tests run" >&2
  echo "         \`.venv/bin/ruff check --fix . && .venv/bin/ruff format .\` fixes what ruff can" >&2
  exit 1
fi

exec .venv/bin/python -m pytest -q "${fast[@]}" "$@"
