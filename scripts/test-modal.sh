#!/usr/bin/env bash
# The Modal part alone: the adapter's jest tests and the Modal rollout end to end (the real `modal` CLI and SDK from
# .venv against the stand-in control plane in modal/tests/modal_standin, real Temporal, real workers), and the pytest
# suite (deploy.py offline, control.py and the stand-in through the real client). Nothing here reaches Modal's
# servers. lib/ and the workflow bundle are built first: pytest renders every example spec with the CLI, and the
# rollout test runs `glm-ops worker` from lib/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/modal ]; then echo "test:modal: .venv/bin/modal missing: run npm run setup" >&2; exit 1; fi
echo "== build (for glm-ops spec render and the worker)"; npx tsc -p tsconfig.build.json && npm run --silent build:workflow
echo "== jest test/platforms/modal test/workflows/rollout-modal.test.ts"
npx jest --ci test/platforms/modal test/workflows/rollout-modal.test.ts "$@"
echo "== pytest modal/tests"; .venv/bin/python -m pytest -q modal/tests
