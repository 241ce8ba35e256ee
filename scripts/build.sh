#!/usr/bin/env bash
# Configure and build kmx in build/ (the build contract), after setup.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release ${KMX_CMAKE_ARGS:-} >/dev/null
cmake --build "$here/build" -j"$(nproc)"
