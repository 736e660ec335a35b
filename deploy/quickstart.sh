#!/usr/bin/env bash
# Builds tracegate and runs it in front of a demo service, on this machine:
#
#   client ──► tracegate 0.0.0.0:8080 (embedded default config) ──► demo upstream 127.0.0.1:9000
#
# Interactive: prints what to curl, then runs until Ctrl-C (or SIGTERM), which stops both.
# QUICKSTART_SMOKE=1: sends one request through the proxy, checks it, stops both, exits 0
# (non-zero on any failure).
# shellcheck disable=SC2317  # cleanup and on_signal run from traps
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly proxy_port=8080    # the embedded default listener, 0.0.0.0:8080
readonly upstream_port=9000 # the embedded default upstream, 127.0.0.1:9000
readonly startup_seconds=30
smoke=${QUICKSTART_SMOKE:-0}

proxy_pid=""
upstream_pid=""
logdir=""

say() { echo "quickstart: $*" >&2; }
fail() {
    say "$*"
    exit 1
}

# Whether something listens on TCP port $1 (any address, IPv4 or IPv6). Reads
# /proc/net/tcp{,6} so it needs no extra tool, and it also catches a listener that
# set SO_REUSEPORT, which a test bind would not (tracegate itself sets it).
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v port="$hex" '
        FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == port) found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

check_ports() {
    local port busy=0
    for port in "$proxy_port" "$upstream_port"; do
        if port_in_use "$port"; then
            say "port $port is already in use: tracegate needs 8080 and the demo upstream 9000."
            if command -v ss >/dev/null 2>&1; then ss -ltnp "sport = :$port" >&2 || true; fi
            busy=1
        fi
    done
    if [ "$busy" -ne 0 ]; then
        fail "free the port(s) above (stop whatever listens there) and run deploy/quickstart.sh again"
    fi
}

# Sends SIGTERM to child $1 if it still runs and waits for it; returns its exit status.
stop_child() {
    local pid=$1 status=0
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

show_logs() {
    local f
    [ -n "$logdir" ] || return 0
    for f in "$logdir"/upstream.log "$logdir"/tracegate.log; do
        [ -s "$f" ] || continue
        echo "---- last lines of $(basename "$f") ----" >&2
        tail -n 20 "$f" >&2
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$status" -ne 0 ]; then show_logs; fi
    stop_child "$proxy_pid" || true
    stop_child "$upstream_pid" || true
    if [ -n "$logdir" ]; then rm -rf "$logdir"; fi
    exit "$status"
}
trap cleanup EXIT
# Ctrl-C or SIGTERM leaves through the EXIT trap, which stops both children. Interactive,
# that is the normal way to stop (exit 0); during a smoke run it is a failure.
on_signal() {
    echo >&2
    if [ "$smoke" = "1" ]; then fail "interrupted by $1"; fi
    say "stopping (SIGTERM to tracegate and the demo upstream)"
    exit 0
}
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM

# Polls $1 until it answers 200, while child $2 (named $3) still runs, for at most
# startup_seconds.
wait_ready() {
    local url=$1 pid=$2 name=$3
    local deadline=$((SECONDS + startup_seconds))
    until curl -fs -o /dev/null --max-time 2 "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            local status=0
            wait "$pid" 2>/dev/null || status=$?
            fail "$name exited during startup (status $status)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "$name did not answer $url within ${startup_seconds}s"
        fi
        sleep 0.1
    done
}

check_ports

say "installing build dependencies (deploy/install-deps.sh)"
deploy/install-deps.sh

say "building tracegate and the demo upstream (Release, build/)"
# Configure quietly (its output is only interesting when it fails); the build shows progress.
if ! configure_output=$(cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release 2>&1); then
    printf '%s\n' "$configure_output" >&2
    fail "cmake configure failed"
fi
cmake --build build -j"$(nproc)" --target tracegate tracegate-test-upstream

# The build can take minutes: look again right before binding.
check_ports

logdir=$(mktemp -d "${TMPDIR:-/tmp}/tracegate-quickstart.XXXXXX")

build/tests/tracegate-test-upstream --listen "127.0.0.1:$upstream_port" \
    >"$logdir/upstream.log" 2>&1 &
upstream_pid=$!
wait_ready "http://127.0.0.1:$upstream_port/" "$upstream_pid" "the demo upstream"

# No --config: the embedded defaults (tracegate --print-default-config shows them).
build/tracegate >"$logdir/tracegate.log" 2>&1 &
proxy_pid=$!
wait_ready "http://127.0.0.1:$proxy_port/" "$proxy_pid" "tracegate"

if [ "$smoke" = "1" ]; then
    body="$logdir/smoke-body"
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 \
        "http://127.0.0.1:$proxy_port/hello") || fail "smoke: curl through tracegate failed"
    if [ "$code" != "200" ]; then
        fail "smoke: GET /hello through tracegate answered $code, expected 200"
    fi
    if ! grep -q "ok /hello" "$body"; then
        fail "smoke: unexpected body from GET /hello: $(head -c 200 "$body")"
    fi
    status=0
    stop_child "$proxy_pid" || status=$?
    proxy_pid=""
    if [ "$status" -ne 0 ]; then
        fail "smoke: tracegate exited with status $status on SIGTERM, expected 0"
    fi
    say "smoke: ok (GET /hello through tracegate answered 200; tracegate drained and exited 0)"
    exit 0
fi

cat <<EOF

tracegate is listening on 0.0.0.0:$proxy_port in front of the demo upstream on 127.0.0.1:$upstream_port.
Try, from another terminal:

  curl -i http://127.0.0.1:$proxy_port/hello          # 200 "ok /hello", relayed from the upstream
  curl -i http://127.0.0.1:$proxy_port/status/503     # the upstream's own 503, passed through
  curl -i http://127.0.0.1:$proxy_port/delay/200      # answered after 200 ms
  curl -s http://127.0.0.1:$proxy_port/bytes/10485760 | wc -c   # 10 MiB streamed through

Logs: $logdir/tracegate.log and $logdir/upstream.log
Press Ctrl-C to stop both.
EOF

# Runs until Ctrl-C / SIGTERM (the trap stops both children), or until a child exits.
status=0
wait -n "$proxy_pid" "$upstream_pid" || status=$?
if ! kill -0 "$proxy_pid" 2>/dev/null; then
    proxy_pid=""
    fail "tracegate exited (status $status)"
fi
upstream_pid=""
fail "the demo upstream exited (status $status)"
