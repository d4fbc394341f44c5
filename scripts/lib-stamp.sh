#!/usr/bin/env bash
# Prints the hash of everything lib/ is compiled from. scripts/setup.sh writes it to lib/.glm-ops-stamp after a
# build; tests that run lib/ compare the two to refuse a missing or stale build instead of compiling one themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
# LC_ALL=C: the file order (and so the hash) must not depend on the caller's locale.
(find src -type f \( -name '*.ts' -o -name '*.json' \) -print0 | LC_ALL=C sort -z | xargs -0 cat; cat tsconfig.json tsconfig.build.json) |
  sha256sum | cut -c1-16
