#!/usr/bin/env bash
# Builds tracegate and runs Dapper's classic example on this machine: five small,
# uninstrumented services (deploy/demo/service.py), each behind its own tracegate.
#
#   curl ──► tracegate 0.0.0.0:8080 ──► TaskQueue.Stats 127.0.0.1:9000
#                                          ├─► tracegate 127.0.0.1:8081 ──► TaskQueue.Auth  127.0.0.1:9001
#                                          ├─► tracegate 127.0.0.1:8082 ──► QueueService    127.0.0.1:9002  (twice ┐
#                                          ├─► tracegate 127.0.0.1:8083 ──► System.Stats    127.0.0.1:9003  at once┘)
#                                          └─► tracegate 127.0.0.1:8084 ──► Graphviz.Render 127.0.0.1:9004
#
# The entry tracegate (deploy/demo/taskqueue-stats.yaml) keeps the admin server on
# 127.0.0.1:9901 with the trace store and the viewer (/traces); the four others send
# their spans there over OTLP. The services only pass `traceparent` on.
#
# Interactive: sends a few requests, prints a trace and what to open or curl, then runs
# until Ctrl-C (or SIGTERM), which stops every process it started.
# QUICKSTART_SMOKE=1: sends the requests, waits (bounded) until the trace store holds a
# whole TaskQueue.Stats trace with all five services, stops everything, exits 0
# (non-zero on any failure).
# QUICKSTART_SKIP_BUILD=1: no dependency install, no build: use build/tracegate as it is.
# QUICKSTART_TRACEGATE=PATH: likewise, with that binary (e.g. from another build dir).
# shellcheck disable=SC2317  # cleanup and on_signal run from traps
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly entry_port=8080 # the demo's front door, 0.0.0.0:8080
readonly admin_port=9901 # the entry tracegate's admin server: viewer, API, OTLP receiver
readonly startup_seconds=30
readonly stop_seconds=20 # per group of children, then SIGKILL
readonly trace_seconds=30
smoke=${QUICKSTART_SMOKE:-0}
tracegate=${QUICKSTART_TRACEGATE:-}
skip_build=${QUICKSTART_SKIP_BUILD:-0}
if [ -n "$tracegate" ]; then skip_build=1; fi
tracegate=${tracegate:-build/tracegate}

# The demo, one line per service: role, name, its tracegate's port, its own port, config.
readonly demo=(
    "stats  TaskQueue.Stats  8080 9000 deploy/demo/taskqueue-stats.yaml"
    "auth   TaskQueue.Auth   8081 9001 deploy/demo/taskqueue-auth.yaml"
    "queue  QueueService     8082 9002 deploy/demo/queueservice.yaml"
    "system System.Stats     8083 9003 deploy/demo/system-stats.yaml"
    "render Graphviz.Render  8084 9004 deploy/demo/graphviz-render.yaml"
)

# Children: pid and name, in start order. Services first, then the tracegates.
service_pids=()
service_names=()
proxy_pids=() # [0] is the entry tracegate
proxy_names=()
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

all_ports() {
    local line role name front port config
    for line in "${demo[@]}"; do
        read -r role name front port config <<<"$line"
        echo "$front" "$port"
    done
    echo "$admin_port"
}

check_ports() {
    local port busy=0
    for port in $(all_ports); do
        if port_in_use "$port"; then
            say "port $port is already in use; the demo needs $(all_ports | tr '\n' ' ')"
            if command -v ss >/dev/null 2>&1; then ss -ltnp "sport = :$port" >&2 || true; fi
            busy=1
        fi
    done
    if [ "$busy" -ne 0 ]; then
        fail "free the port(s) above (stop whatever listens there) and run deploy/quickstart.sh again"
    fi
}

# Whether child $1 still runs (a zombie does not: it exited, only not reaped yet).
running() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# Stops children "$@" (pids): SIGTERM to all at once, then waits for each, SIGKILL to
# whatever still runs after stop_seconds. Sets stop_failed to the "pid:status" of each
# child that did not exit 0.
stop_failed=()
stop_children() {
    local pid deadline=$((SECONDS + stop_seconds)) status
    stop_failed=()
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        while running "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
        if running "$pid"; then
            say "pid $pid did not stop within ${stop_seconds}s of SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        status=0
        wait "$pid" 2>/dev/null || status=$?
        [ "$status" -eq 0 ] || stop_failed+=("$pid:$status")
    done
}

show_logs() {
    local f
    [ -n "$logdir" ] || return 0
    for f in "$logdir"/*.log; do
        [ -s "$f" ] || continue
        echo "---- last lines of $(basename "$f") ----" >&2
        tail -n 15 "$f" >&2
    done
}

# Stops every child: the inner tracegates first (they send their last spans to the
# entry's store), then the entry tracegate, then the services. Returns non-zero when a
# tracegate did not exit 0.
stop_all() {
    local bad=0
    if [ "${#proxy_pids[@]}" -gt 1 ]; then
        stop_children "${proxy_pids[@]:1}"
        if [ "${#stop_failed[@]}" -gt 0 ]; then
            say "tracegate(s) exited non-zero on SIGTERM (pid:status): ${stop_failed[*]}"
            bad=1
        fi
    fi
    if [ "${#proxy_pids[@]}" -gt 0 ]; then
        stop_children "${proxy_pids[0]}"
        if [ "${#stop_failed[@]}" -gt 0 ]; then
            say "the entry tracegate exited non-zero on SIGTERM (pid:status): ${stop_failed[*]}"
            bad=1
        fi
    fi
    if [ "${#service_pids[@]}" -gt 0 ]; then stop_children "${service_pids[@]}"; fi
    proxy_pids=()
    service_pids=()
    return "$bad"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$status" -ne 0 ]; then show_logs; fi
    stop_all || true
    if [ -n "$logdir" ]; then rm -rf "$logdir"; fi
    exit "$status"
}
trap cleanup EXIT
# Ctrl-C or SIGTERM leaves through the EXIT trap, which stops every child. Interactive,
# that is the normal way to stop (exit 0); during a smoke run it is a failure.
on_signal() {
    echo >&2
    if [ "$smoke" = "1" ]; then fail "interrupted by $1"; fi
    say "stopping (SIGTERM to the tracegates, then to the demo services)"
    exit 0
}
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM

# Fails naming child $1 ($2) when it is no longer running.
check_alive() {
    local pid=$1 name=$2 status=0
    running "$pid" && return 0
    wait "$pid" 2>/dev/null || status=$?
    fail "$name exited during startup (status $status); its log is below"
}

# Polls until port $1 listens, while child $2 (named $3) still runs, for at most
# startup_seconds. Looks at the socket table: no request, so no stray span.
wait_listening() {
    local port=$1 pid=$2 name=$3
    local deadline=$((SECONDS + startup_seconds))
    until port_in_use "$port"; do
        check_alive "$pid" "$name"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name did not listen on port $port within ${startup_seconds}s"
        sleep 0.05
    done
}

# Polls $1 until it answers 200, while child $2 (named $3) still runs.
wait_ready() {
    local url=$1 pid=$2 name=$3
    local deadline=$((SECONDS + startup_seconds))
    until curl -fs --noproxy '*' -o /dev/null --max-time 2 "$url"; do
        check_alive "$pid" "$name"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name did not answer $url within ${startup_seconds}s"
        sleep 0.05
    done
}

check_ports

if [ "$skip_build" = "1" ]; then
    [ -x "$tracegate" ] || fail "$tracegate does not exist or is not executable: build it first, or run without QUICKSTART_SKIP_BUILD / QUICKSTART_TRACEGATE"
    say "using $tracegate as it is (no dependency install, no build)"
else
    say "installing build dependencies (deploy/install-deps.sh)"
    deploy/install-deps.sh

    say "building tracegate (Release, build/)"
    # Configure quietly (its output is only interesting when it fails); the build shows progress.
    if ! configure_output=$(cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release 2>&1); then
        printf '%s\n' "$configure_output" >&2
        fail "cmake configure failed"
    fi
    cmake --build build -j"$(nproc)" --target tracegate
fi
for tool in python3 curl; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool is needed (the demo services are Python 3); deploy/install-deps.sh installs it"
done

# The build can take minutes: look again right before binding.
check_ports

logdir=$(mktemp -d "${TMPDIR:-/tmp}/tracegate-quickstart.XXXXXX")

# The five services, each calling the others through their tracegates.
for line in "${demo[@]}"; do
    read -r role name front port config <<<"$line"
    extra=()
    if [ "$role" = "stats" ]; then
        extra=(--auth http://127.0.0.1:8081 --queue http://127.0.0.1:8082
            --system http://127.0.0.1:8083 --render http://127.0.0.1:8084)
    fi
    python3 deploy/demo/service.py "$role" --port "$port" "${extra[@]}" \
        >"$logdir/service-$role.log" 2>&1 &
    service_pids+=($!)
    service_names+=("$name (deploy/demo/service.py $role)")
done
for i in "${!demo[@]}"; do
    read -r role name front port config <<<"${demo[$i]}"
    wait_listening "$port" "${service_pids[$i]}" "${service_names[$i]}"
done

# The tracegates, the entry one first: the others send their spans to its admin server.
for line in "${demo[@]}"; do
    read -r role name front port config <<<"$line"
    "$tracegate" --config "$config" >"$logdir/tracegate-$role.log" 2>&1 &
    proxy_pids+=($!)
    proxy_names+=("the tracegate of $name ($config)")
done
wait_ready "http://127.0.0.1:$admin_port/ready" "${proxy_pids[0]}" "${proxy_names[0]}"
for i in "${!demo[@]}"; do
    read -r role name front port config <<<"${demo[$i]}"
    wait_listening "$front" "${proxy_pids[$i]}" "${proxy_names[$i]}"
done
say "5 services and 5 tracegates are up"

# A few requests, as a user would send them.
body="$logdir/body"
for i in 1 2 3; do
    code=$(curl -sS --noproxy '*' -o "$body" -w '%{http_code}' --max-time 10 \
        "http://127.0.0.1:$entry_port/stats") || fail "curl http://127.0.0.1:$entry_port/stats failed"
    if [ "$code" != "200" ] || ! grep -q '"graph"' "$body"; then
        fail "GET /stats answered $code, expected 200 with a graph: $(head -c 300 "$body")"
    fi
done
say "GET http://127.0.0.1:$entry_port/stats answered 200 three times: $(head -c 200 "$body")"

if [ "$smoke" = "1" ]; then
    # A callee's error comes back as the caller's 502 (and gives an error trace).
    code=$(curl -sS --noproxy '*' -o "$body" -w '%{http_code}' --max-time 10 \
        "http://127.0.0.1:$entry_port/stats?fail=render") || fail "smoke: curl ?fail=render failed"
    if [ "$code" != "502" ] || ! grep -q 'Graphviz.Render answered 500' "$body"; then
        fail "smoke: GET /stats?fail=render answered $code, expected 502 naming Graphviz.Render: $(head -c 300 "$body")"
    fi
    python3 deploy/demo/check_trace.py --admin "http://127.0.0.1:$admin_port" \
        --timeout "$trace_seconds" || fail "smoke: no whole TaskQueue.Stats trace arrived in the trace store"
    stop_all || fail "smoke: a tracegate did not exit 0 on SIGTERM"
    say "smoke: ok (5 services behind 5 tracegates; one whole trace in the viewer's store; all stopped)"
    exit 0
fi

echo >&2
python3 deploy/demo/check_trace.py --admin "http://127.0.0.1:$admin_port" --timeout 10 ||
    say "(no whole trace in the store yet: look in the viewer)"

cat <<EOF

Dapper's example runs: 5 services, each behind its own tracegate, entry on 0.0.0.0:$entry_port.

Open the trace viewer:   http://127.0.0.1:$admin_port/traces

Try, from another terminal:

  curl http://127.0.0.1:$entry_port/stats                 # one more trace: Auth, then 2x QueueService + System.Stats at once, then Graphviz.Render
  curl 'http://127.0.0.1:$entry_port/stats?fail=render'   # Graphviz.Render fails: a 502 and an error trace
  curl -s 'http://127.0.0.1:$admin_port/api/traces?limit=5'   # the traces, as JSON
  curl -s http://127.0.0.1:$admin_port/api/traces/TRACE_ID    # one trace, every span

Configs: deploy/demo/*.yaml   Logs: $logdir/
Press Ctrl-C to stop everything.
EOF

# Runs until Ctrl-C / SIGTERM (the trap stops every child), or until a child exits.
status=0
wait -n "${proxy_pids[@]}" "${service_pids[@]}" || status=$?
for i in "${!proxy_pids[@]}"; do
    running "${proxy_pids[$i]}" || fail "${proxy_names[$i]} exited (status $status)"
done
for i in "${!service_pids[@]}"; do
    running "${service_pids[$i]}" || fail "${service_names[$i]} exited (status $status)"
done
fail "a child exited (status $status)"
