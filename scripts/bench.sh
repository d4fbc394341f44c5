#!/usr/bin/env bash
# Compiles src/ and bench/ together and runs one benchmark: npm run bench -- <name> [args]
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: npm run bench -- <name> [args] (see bench/)}"; shift
npx tsc -p tsconfig.bench.json
node ".bench-build/bench/${name}.js" "$@"
