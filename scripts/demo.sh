#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, then rolls out examples/local-demo.yaml on the
# local platform with live progress. It starts whatever is not running (Temporal dev server with its Web UI, the
# platform daemon, a worker, the local hub with its fixture checkpoint) and leaves the stack up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
./bin/glm-ops rollout examples/local-demo.yaml --follow || status=$?
echo
./bin/glm-ops dev status
echo "The stack stays up: open the Temporal Web UI above to read the history. Stop everything with: ./bin/glm-ops dev down"
exit "$status"
