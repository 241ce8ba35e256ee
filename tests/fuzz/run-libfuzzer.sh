#!/usr/bin/env bash
# Build the libFuzzer targets with clang-14 (-fsanitize=fuzzer,address,undefined, the library
# instrumented too) and run one of them on a copy of its seed corpus.
#
#   tests/fuzz/run-libfuzzer.sh [TARGET] [SECONDS] [extra libFuzzer flags...]
#   tests/fuzz/run-libfuzzer.sh elf 600            # the module reader for 10 minutes
#   tests/fuzz/run-libfuzzer.sh index 60 -max_len=65536
#
# One process, one job (what -jobs=1 would give, without its fuzz-0.log indirection); a
# 10 s timeout per input and a 2 GB RSS limit turn hangs and bombs into findings.
# TARGET is the corpus name (elf, index, ...: tests/fuzz/<TARGET>_fuzz.cc); default elf.
# Environment: KMX_FUZZ_BUILD (default <repo>/build-fuzz), KMX_FUZZ_WORK (default
# /tmp/kmx-fuzz-<TARGET>: the growing corpus and crash-*/timeout-*/oom-* artifacts),
# KMX_FUZZ_JOBS (default 2 for the build).
# The seed corpus in tests/fuzz/corpus/<TARGET> is never written to: copy a crash input there
# by hand (small, named for what it breaks) once it is understood, so the g++ replay test
# (ctest -R fuzz-replay-<TARGET>) keeps it fixed.
# Exit status: 0 when the run ended without a finding, libFuzzer's status otherwise.
set -euo pipefail

target=${1:-elf}
seconds=${2:-600}
shift $(( $# > 2 ? 2 : $# ))

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${KMX_FUZZ_BUILD:-$src/build-fuzz}
work=${KMX_FUZZ_WORK:-/tmp/kmx-fuzz-$target}
seeds=$src/tests/fuzz/corpus/$target

[[ -f $src/tests/fuzz/${target}_fuzz.cc ]] || { echo "no such fuzz target: $target" >&2; exit 2; }
command -v clang++-14 >/dev/null || { echo "skipped: clang++-14 not installed"; exit 77; }

CC=clang-14 CXX=clang++-14 cmake -S "$src" -B "$build" -DKMX_FUZZ=ON -DKMX_TESTS=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${KMX_FUZZ_JOBS:-2}" --target "${target}_fuzz"

mkdir -p "$work/corpus" "$work/artifacts"
[[ -d $seeds ]] && cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true

echo "fuzzing ${target}_fuzz for ${seconds}s; corpus $work/corpus, findings in $work/artifacts"
exec "$build/tests/${target}_fuzz" "$work/corpus" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@"
