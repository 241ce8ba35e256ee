#!/usr/bin/env bash
# Run every test: set-up, build (warnings are errors), fetch the real Debian module trees
# (cached), the unit tests once more under ASan+UBSan, then ctest (unit, fuzz replay, CLI and
# differential tests against kmod, the VM lab).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KMX_CMAKE_ARGS="-DKMX_WERROR=ON ${KMX_CMAKE_ARGS:-}" "$here/scripts/build.sh"
"$here/tests/data/fetch-trees.sh" all
# Kernel sources for the genksyms cross-check (about 6 minutes and 5 GB the first time, cached);
# a source Debian's archive no longer serves makes that test skip, not the suite fail.
"$here/tests/data/kernel-source.sh" all || echo "test.sh: kernel sources not prepared; abi-diff-genksyms will skip" >&2
"$here/scripts/sanitize.sh"
cd "$here/build"
# The real-system lab (tests/system: Debian 12 booted whole, images built from Debian's packages
# and kmx's own) is part of the run; KMX_SYSTEM_LAB=0 leaves it out.
[ "${KMX_SYSTEM_LAB:-1}" = 1 ] || set -- -LE system "$@"
ctest --output-on-failure -j"${KMX_TEST_JOBS:-2}" "$@"
