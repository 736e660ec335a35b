#!/usr/bin/env bash
# Load harness: what tracegate costs on this machine. Runs wrk on loopback first straight
# at the demo upstream, then through tracegate, and prints throughput and latency
# percentiles side by side. A measuring tool, not a test: it never fails on timing.
#
# Settings (environment):
#   DURATION=10s      wrk run length for each of the two runs
#   CONNECTIONS=50    concurrent keep-alive connections
#   THREADS=2         wrk threads
#   WORKERS=1         tracegate worker threads (0 = one per core)
#   URL_PATH=/        request path, e.g. /bytes/16384 for 16 KiB responses
#
# Builds build/tracegate and build/tests/tracegate-test-upstream (Release) if needed.
# Everything listens on 127.0.0.1 on ports the kernel picks; all of it stops on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/bench/bench_util.sh
source tests/bench/bench_util.sh  # to_ms, show_log_tails

duration=${DURATION:-10s}
connections=${CONNECTIONS:-50}
threads=${THREADS:-2}
workers=${WORKERS:-1}
url_path=${URL_PATH:-/}
readonly startup_seconds=30

upstream_pid=""
proxy_pid=""
workdir=""

say() { echo "load: $*" >&2; }
fail() {
    say "$*"
    exit 1
}

# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local pid
    for pid in "$proxy_pid" "$upstream_pid"; do
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ] && [ -n "$workdir" ]; then
        show_log_tails 20 "$workdir"/*.log
    fi
    if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until log $1 of child $2 (named $3) has a "listening on HOST:PORT" line; prints PORT.
bound_port() {
    local log=$1 pid=$2 name=$3 port=""
    local deadline=$((SECONDS + startup_seconds))
    while :; do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$log" | head -n 1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || fail "$name exited during startup"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name printed no \"listening on\" line in ${startup_seconds}s"
        sleep 0.05
    done
}


# Runs wrk against URL $1; prints "req_per_s p50_ms p90_ms p99_ms errors".
measure() {
    local url=$1 out
    out=$(wrk --latency -d "$duration" -c "$connections" -t "$threads" "$url")
    printf '%s\n' "$out" >&2
    local rps p50 p90 p99 socket_errors non2xx
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p90=$(awk '$1 == "90%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p90" ] || [ -z "$p99" ]; then
        fail "could not read wrk's output"
    fi
    # "Socket errors: connect 0, read 0, write 0, timeout 0" and "Non-2xx or 3xx responses: N"
    # appear only when non-zero.
    socket_errors=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
    echo "$rps $(to_ms "$p50") $(to_ms "$p90") $(to_ms "$p99") $((${socket_errors:-0} + ${non2xx:-0}))"
}

command -v wrk >/dev/null 2>&1 || fail "wrk is not installed; run deploy/install-deps.sh"
command -v curl >/dev/null 2>&1 || fail "curl is not installed; run deploy/install-deps.sh"

say "building (Release, build/)"
# Quiet unless something fails; then the whole output shows why.
if ! build_output=$(cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release 2>&1 &&
    cmake --build build -j"$(nproc)" --target tracegate tracegate-test-upstream 2>&1); then
    printf '%s\n' "$build_output" >&2
    fail "build failed"
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tracegate-load.XXXXXX")

build/tests/tracegate-test-upstream --listen 127.0.0.1:0 >"$workdir/upstream.log" 2>&1 &
upstream_pid=$!
upstream_port=$(bound_port "$workdir/upstream.log" "$upstream_pid" "the upstream")

cat >"$workdir/tracegate.yaml" <<EOF
service_name: load
workers: $workers
listeners:
  - name: bench
    address: 127.0.0.1:0
upstreams:
  - name: upstream
    endpoints: [127.0.0.1:$upstream_port]
EOF
build/tracegate --config "$workdir/tracegate.yaml" >"$workdir/tracegate.log" 2>&1 &
proxy_pid=$!
proxy_port=$(bound_port "$workdir/tracegate.log" "$proxy_pid" "tracegate")

direct_url="http://127.0.0.1:$upstream_port$url_path"
proxy_url="http://127.0.0.1:$proxy_port$url_path"
# Proof that the proxy relays before measuring anything (whatever URL_PATH answers).
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$proxy_port/") || code=000
[ "$code" = "200" ] || fail "GET / through tracegate answered $code, expected 200"

say "wrk: $duration, $connections connections, $threads threads; tracegate with $workers worker(s)"
say "direct:    $direct_url"
direct=$(measure "$direct_url")
say "tracegate: $proxy_url"
through=$(measure "$proxy_url")

awk -v d="$direct" -v p="$through" '
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "n/a" }
BEGIN {
    split(d, D, " "); split(p, P, " ")
    printf "\n%-11s %12s %10s %10s %10s %8s\n", "", "requests/s", "p50 ms", "p90 ms", "p99 ms", "errors"
    printf "%-11s %12.1f %10.3f %10.3f %10.3f %8d\n", "direct", D[1], D[2], D[3], D[4], D[5]
    printf "%-11s %12.1f %10.3f %10.3f %10.3f %8d\n", "tracegate", P[1], P[2], P[3], P[4], P[5]
    printf "\nthroughput tracegate/direct: %s   p50 latency: %s   p99 latency: %s\n",
        ratio(P[1], D[1]), ratio(P[2], D[2]), ratio(P[4], D[4])
    if (D[5] + P[5] > 0) print "note: errors are socket errors plus non-2xx/3xx responses; see the wrk output above"
}'
