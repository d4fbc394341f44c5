#!/usr/bin/env bash
# The Modal part alone: the adapter's jest tests (contract tests against the installed client's --help, parsers,
# preflight, the adapter end to end against a stand-in executable) and the pytest suite for modal/deploy.py.
# Nothing here reaches Modal's servers. lib/ is built first because pytest renders every example spec with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/modal ]; then echo "test:modal: .venv/bin/modal missing: run npm run setup" >&2; exit 1; fi
echo "== build (for glm-ops spec render)"; npx tsc -p tsconfig.build.json
echo "== jest test/platforms/modal"; npx jest --ci test/platforms/modal "$@"
echo "== pytest modal/tests"; .venv/bin/python -m pytest -q modal/tests
