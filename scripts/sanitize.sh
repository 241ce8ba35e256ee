#!/usr/bin/env bash
# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, in their own build
# (build-asan/, dynamic: the sanitizer runtimes need it). Any report fails the run. Warnings are
# not errors here: GCC 12 with -fsanitize=address reports -Wmaybe-uninitialized inside
# std::function and std::variant where the release build, which is built with -Werror, is clean.
# KMX_SANITIZE_FILTER passes a --gtest_filter.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$here" -B "$here/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKMX_SANITIZE=ON -DKMX_STATIC=OFF \
  -DKMX_WERROR=OFF "${launcher[@]}" > /dev/null
cmake --build "$here/build-asan" -j"$(nproc)" --target kmx_unit
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$here/build-asan/tests/kmx_unit" --gtest_brief=1 ${KMX_SANITIZE_FILTER:+--gtest_filter="$KMX_SANITIZE_FILTER"}
