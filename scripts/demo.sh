#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, brings up the local stack and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./bin/glm-ops dev up
./bin/glm-ops dev check
echo "The stack stays up; stop it with: ./bin/glm-ops dev down"
