#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz: build them (clang 14, ASan + UBSan, build-fuzz/),
# replay every checked-in input, then fuzz each target for a bounded time. Local only:
# nothing here touches the network (install-deps.sh may, once, to install packages).
#
#   tests/fuzz/run.sh                     every target, FUZZ_SECONDS (default 60) each
#   tests/fuzz/run.sh fuzz_b3 fuzz_xray   only these
#   FUZZ_SECONDS=8 tests/fuzz/run.sh      CI's budget (all targets in about 2-3 minutes)
#   FUZZ_SECONDS=0 tests/fuzz/run.sh      replay the corpora and regressions only
#
# Inputs replayed: tests/fuzz/corpus/<target>/ (seeds) and tests/fuzz/regressions/<target>/
# (inputs that once crashed). Inputs the fuzzer finds interesting go to
# build-fuzz/fuzz-corpus/<target>/ (not checked in; kept between local runs).
# A crash, leak, timeout or out-of-memory is copied to tests/fuzz/regressions/<target>/
# and the script exits 1: fix the bug, then commit the input so it is replayed forever.
#
# Environment: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build-fuzz), FUZZ_RSS_MB (default 2048),
# FUZZ_TIMEOUT (seconds one input may take, default 10), FUZZ_MAX_LEN (default 16384).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
fuzz_dir="$root/tests/fuzz"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
rss_mb="${FUZZ_RSS_MB:-2048}"
timeout="${FUZZ_TIMEOUT:-10}"
max_len="${FUZZ_MAX_LEN:-16384}"
started=$SECONDS

deploy/install-deps.sh

"$fuzz_dir/configure.sh" "$build"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  # One target per tests/fuzz/fuzz_<name>.cpp, as tests/fuzz/CMakeLists.txt builds them.
  mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
fi
ninja -C "$build" "${targets[@]}"

# Sanitizer reports end the run with a stack; UB is an error, not a warning.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

dict_for() {
  case "$1" in
    fuzz_http_*) echo "$fuzz_dir/dict/http.dict" ;;
    fuzz_traceparent|fuzz_baggage|fuzz_b3|fuzz_jaeger|fuzz_cloud_trace|fuzz_xray) echo "$fuzz_dir/dict/propagation.dict" ;;
    fuzz_otlp_json) echo "$fuzz_dir/dict/otlp_json.dict" ;;
    fuzz_config_loader) echo "$fuzz_dir/dict/config.dict" ;;
    fuzz_request_path) echo "$fuzz_dir/dict/path.dict" ;;
  esac
}

failed=()
# Copies what libFuzzer left in `artifacts` to the regressions of `target`.
keep_findings() {
  local target="$1" artifacts="$2" found=0 f
  for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    [ -e "$f" ] || continue
    mkdir -p "$fuzz_dir/regressions/$target"
    cp "$f" "$fuzz_dir/regressions/$target/"
    echo "fuzz: $target: $(basename "$f") saved as tests/fuzz/regressions/$target/$(basename "$f")" >&2
    found=1
  done
  if [ "$found" = 1 ]; then
    echo "fuzz: $target FAILED. Reproduce with: $build/tests/fuzz/$target tests/fuzz/regressions/$target/<file>" >&2
    echo "fuzz: fix the bug, then commit the input in tests/fuzz/regressions/$target/ so it is replayed on every run." >&2
  fi
}

for target in "${targets[@]}"; do
  binary="$build/tests/fuzz/$target"
  inputs=()
  for d in "$fuzz_dir/corpus/$target" "$fuzz_dir/regressions/$target"; do
    [ -d "$d" ] && inputs+=("$d")
  done
  artifacts="$build/fuzz-artifacts/$target"
  rm -rf "$artifacts"
  mkdir -p "$artifacts" "$build/fuzz-corpus/$target"
  common=(-rss_limit_mb="$rss_mb" -timeout="$timeout" -artifact_prefix="$artifacts/")
  dict="$(dict_for "$target")"
  [ -n "$dict" ] && [ -f "$dict" ] && common+=(-dict="$dict")
  log="$build/fuzz-artifacts/$target.log"

  # Replay: every checked-in input once, at its full length.
  status=0
  if [ "${#inputs[@]}" -gt 0 ]; then
    "$binary" "${common[@]}" -runs=0 "${inputs[@]}" </dev/null >"$log" 2>&1 || status=$?
  fi
  if [ "$status" != 0 ]; then
    echo "fuzz: $target: a checked-in input fails (exit $status); see $log" >&2
    grep -m1 -B2 -A30 -E '^==[0-9]+==ERROR|runtime error|invariant broken|deadly signal|Timeout|out-of-memory' "$log" >&2 || tail -n 40 "$log" >&2
    # The input is checked in already (its name is in the log): nothing to copy.
    grep -E '^(Running|Executed|INFO: .*files found)' "$log" | tail -n 3 >&2 || true
    failed+=("$target")
    continue
  fi

  # Fuzz: new inputs go to build-fuzz/fuzz-corpus/<target>, the first directory given.
  if [ "$seconds" -gt 0 ]; then
    "$binary" "${common[@]}" -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
      "$build/fuzz-corpus/$target" "${inputs[@]}" </dev/null >>"$log" 2>&1 || status=$?
    if [ "$status" != 0 ]; then
      echo "fuzz: $target: crashed while fuzzing (exit $status); see $log" >&2
      grep -m1 -B2 -A30 -E '^==[0-9]+==ERROR|runtime error|invariant broken|deadly signal|Timeout|out-of-memory' "$log" >&2 || tail -n 40 "$log" >&2
      keep_findings "$target" "$artifacts"
      failed+=("$target")
      continue
    fi
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  echo "fuzz: $target ok${runs:+ ($runs runs)}"
done

echo "fuzz: ${#targets[@]} targets in $((SECONDS - started))s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
