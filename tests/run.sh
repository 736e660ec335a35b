#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run): install dependencies, build
# everything (Release, build/), run every test registered with ctest.
# Exits non-zero when anything fails, or when no test is registered at all.
#
#   tests/run.sh                  Release build in build/, every test (CI's first step)
#   tests/run.sh --sanitize       AddressSanitizer + UndefinedBehaviorSanitizer build in
#                                 build-asan/: the unit suites and the integration suite
#   tests/run.sh --sanitize --ci  CI's sanitizer step: the integration suite against the
#                                 tracegate of the fuzzers' instrumented build (clang 14,
#                                 ASan + UBSan, build-fuzz/, see tests/fuzz/configure.sh)
#   tests/run.sh --tsan           ThreadSanitizer build in build-tsan/: the export pipeline,
#                                 trace store, idle sweep and reload tests ($tsan_* below)
#
# The sanitizer runs leave out the browser test, quickstart_smoke, micro_bench_smoke and
# the tests that measure resident memory. The integration tests are built once, in build/,
# and started with TRACEGATE_BINARY naming the sanitized tracegate; a sanitizer report in
# its log fails the test (tests/support/tracegate_process.cpp).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=plain
ci=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) mode=asan ;;
    --tsan) mode=tsan ;;
    --ci) ci=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tests/run.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$ci" = 1 ] && [ "$mode" != asan ]; then
  echo "tests/run.sh: --ci goes with --sanitize" >&2
  exit 2
fi

deploy/install-deps.sh

if [ "$mode" = plain ]; then
  # The browser test's packages, exactly as locked (playwright-core drives the system Chromium).
  if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  fi
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j"$(nproc)"
  ctest --test-dir build --output-on-failure -j2 --timeout 300 --no-tests=error
  exit 0
fi

# ---- Sanitizer builds -------------------------------------------------------------------

# The integration tests are clients of a tracegate process: they run from the Release
# build (build/) against the sanitized binary named by TRACEGATE_BINARY, so only tracegate
# and the unit suites are built instrumented.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target integration_tests

# Not run under a sanitizer: the browser test, the quickstart demo and the micro-benchmarks
# (none is built in a sanitizer directory).
# Nor the tests that measure tracegate's resident memory: ASan's shadow memory and its
# quarantine of freed blocks are part of RSS, so their figures say nothing there.
not_sanitized='^(viewer_browser|quickstart_smoke|micro_bench_smoke|.*(in_flat_memory|without_growing_memory|hold_little_memory|leave_no_growth|memory_stays_bounded)[a-z_]*)$'

# ThreadSanitizer: the export pipeline and trace store (unit), and end to end the export
# pipeline under a failing collector, the trace store behind the admin API, the idle sweep
# and SIGHUP reloads.
tsan_unit='^(export_pipeline|trace_store)\.'
tsan_integration='^(export_outage\.|lifecycle\.(idle_|many_idle_|sighup_)|hardening\.idle_|admin\.(metrics_count_|api_lists_)|tls_listener\.sighup_)'

supp="$PWD/tests/sanitize"
if [ "$mode" = asan ]; then
  # detect_leaks: LeakSanitizer at every exit, tracegate's included (SIGTERM exits normally).
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1:print_summary=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1:suppressions=$supp/ubsan.supp"
else
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:print_summary=1:suppressions=$supp/tsan.supp:print_suppressions=0"
fi

if [ "$ci" = 1 ]; then
  # CI's step shares one instrumented build with the fuzzers (tests/fuzz/configure.sh:
  # clang 14, ASan + UBSan, build-fuzz/): its tracegate under the whole integration suite.
  dir="${FUZZ_BUILD_DIR:-$PWD/build-fuzz}"
  tests/fuzz/configure.sh "$dir"
  cmake --build "$dir" -j"$(nproc)" --target tracegate
else
  if [ "$mode" = asan ]; then
    dir=build-asan
    sanitizers=address,undefined
    targets=(tracegate config_unit_tests tracing_unit_tests routing_unit_tests proxy_unit_tests)
  else
    dir=build-tsan
    sanitizers=thread
    targets=(tracegate tracing_unit_tests)
  fi
  # -O1 -g1: line tables only, which is all a sanitizer report needs for file:line in every
  # frame; full debug info for Beast-heavy sources would make this build several times slower.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DTRACEGATE_SANITIZE="$sanitizers"
  cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
fi

binary="$(cd "$dir" && pwd)/tracegate"
status=0
# run_ctest BUILD_DIR ARGS...: that build's tests, against the sanitized tracegate.
run_ctest() {
  local tests_dir="$1"
  shift
  TRACEGATE_BINARY="$binary" ctest --test-dir "$tests_dir" --output-on-failure -j2 --timeout 300 \
    --no-tests=error -E "$not_sanitized" "$@" || status=1
}
if [ "$mode" = tsan ]; then
  run_ctest "$dir" -L '^unit$' -R "$tsan_unit"
  run_ctest build -L '^integration$' -R "$tsan_integration"
elif [ "$ci" = 1 ]; then
  run_ctest build -L '^integration$'
else
  run_ctest "$dir" -L '^unit$'
  run_ctest build -L '^integration$'
fi
exit "$status"
