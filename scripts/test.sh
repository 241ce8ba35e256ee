#!/usr/bin/env bash
# Run every test: set-up, build, fetch the real Debian module trees (cached), then ctest
# (unit, fuzz replay, CLI and differential tests against kmod, the VM lab).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/build.sh"
"$here/tests/data/fetch-trees.sh" all
cd "$here/build"
ctest --output-on-failure -j"${KMX_TEST_JOBS:-2}" "$@"
