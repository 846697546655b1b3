#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -q "$@"
