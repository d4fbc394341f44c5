#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, lint, layer check, format check, typecheck, jest, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== lint"; npx eslint . --max-warnings=0
echo "== layers"; npm run --silent lint:layers
echo "== format"; npx prettier --check . --log-level warn
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== jest"; npx jest --ci "$@"
if [ -d modal/tests ]; then echo "== pytest"; .venv/bin/python -m pytest -q modal/tests; fi
echo "== pytest (OpenAI client conformance)"; .venv/bin/python -m pytest -q tests-python
