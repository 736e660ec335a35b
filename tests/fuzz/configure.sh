#!/usr/bin/env bash
# Configures the instrumented build that tests/fuzz/run.sh and CI's sanitizer step
# (tests/run.sh --sanitize --ci) share: clang 14, every library with AddressSanitizer,
# UndefinedBehaviorSanitizer and libFuzzer's coverage (-DTRACEGATE_FUZZ=ON), -O1 with line
# tables only (all a report needs, and far quicker to build than full debug info), asserts on.
# The fuzz targets and a sanitized `tracegate` are both built from it.
#
#   tests/fuzz/configure.sh [BUILD_DIR]     default: $FUZZ_BUILD_DIR or build-fuzz/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${FUZZ_BUILD_DIR:-$root/build-fuzz}}"
mkdir -p "$build"
if ! CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja -DTRACEGATE_FUZZ=ON -DTRACEGATE_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  >"$build/fuzz-configure.log" 2>&1; then
  cat "$build/fuzz-configure.log" >&2
  exit 1
fi
