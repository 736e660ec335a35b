#!/usr/bin/env bash
# compare.sh: tracegate side by side with the proxies people would pick instead (issue 7).
# One command, loopback only, bounded in time. A measuring tool, not a test: it never fails
# on the numbers.
#
# Against one upstream (an nginx answering `200 ok` with keep-alive, its own config under a
# temporary folder), it measures, interleaved over several rounds:
#   direct       wrk straight at the upstream (the ceiling)
#   nginx        nginx as a plain reverse proxy (upstream keep-alive)
#   haproxy      HAProxy as a plain reverse proxy
#   haproxy-ot   HAProxy + OpenTracing filter + Datadog tracer plugin (libdd-opentracing0),
#                one span per request, exported to a loopback sink
#   tg-off       tracegate, tracing off (sampling.ratio 0, no exporter)
#   tg-otlp      tracegate, 100% sampling, OTLP/protobuf to a loopback sink
#   tg-store     tracegate, 100% sampling, the embedded in-memory store (the default)
# each with 2 workers (nginx worker_processes, haproxy nbthread, tracegate workers).
# Per configuration: median requests/s and p50/p99 at saturation (wrk, fixed connections),
# p50/p99 under light paced load (wrk + paced.lua: each connection waits before each
# request), proxy CPU µs per request (utime+stime of every proxy process from /proc, before
# and after each saturation run, / requests), peak RSS (VmHWM summed over the proxy's
# processes), spans received by the sink per request (counted by the sink itself), and
# ratios against nginx. Then (modes below) 10,000 idle keep-alive connections (RSS per
# connection) and a 1 GiB streamed body through tracegate (throughput, peak RSS).
#
# Usage: tests/bench/compare.sh [--throughput] [--idle] [--stream]   (default: all three)
#
# Settings (environment):
#   COMPARE_BUDGET=600         total time budget in seconds; rounds stop early to fit it
#   COMPARE_DURATION=10s       each saturation wrk run
#   COMPARE_ROUNDS=3           rounds; every round runs every configuration once
#   COMPARE_CONNECTIONS=64     wrk connections at saturation
#   COMPARE_THREADS=2          wrk threads
#   COMPARE_LIGHT_DURATION     each light-load run (default: COMPARE_DURATION)
#   COMPARE_LIGHT_CONNECTIONS=8
#   COMPARE_LIGHT_RATE=1000    offered requests/s in total under light load
#   COMPARE_WORKERS=2          workers of every proxy
#   COMPARE_UPSTREAM_WORKERS=2 nginx worker_processes of the upstream
#   COMPARE_CONFIGS="direct nginx haproxy haproxy-ot tg-off tg-otlp tg-store"
#   COMPARE_IDLE_CONNECTIONS=10000
#   COMPARE_STREAM_BYTES=1073741824
#   COMPARE_OUT=tests/bench/results   where compare.md (the table) and compare.svg go
#   COMPARE_INSTALL=1          apt-get install missing nginx/haproxy/libdd-opentracing0 (root)
#   TRACEGATE=build/tracegate  TEST_UPSTREAM=build/tests/tracegate-test-upstream
#
# Everything runs on 127.0.0.1, in a temporary folder removed at exit; every process it
# starts is stopped on exit, Ctrl-C or SIGTERM. System services are never touched: nginx
# and HAProxy run in the foreground with their own config, pid and log files.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/bench/bench_util.sh
source tests/bench/bench_util.sh  # to_ms, show_log_tails
repo=$(pwd)
bench="$repo/tests/bench"

budget=${COMPARE_BUDGET:-600}
duration=${COMPARE_DURATION:-10s}
rounds=${COMPARE_ROUNDS:-3}
connections=${COMPARE_CONNECTIONS:-64}
threads=${COMPARE_THREADS:-2}
light_duration=${COMPARE_LIGHT_DURATION:-$duration}
light_connections=${COMPARE_LIGHT_CONNECTIONS:-8}
light_rate=${COMPARE_LIGHT_RATE:-1000}
workers=${COMPARE_WORKERS:-2}
upstream_workers=${COMPARE_UPSTREAM_WORKERS:-2}
config_list=${COMPARE_CONFIGS:-direct nginx haproxy haproxy-ot tg-off tg-otlp tg-store}
idle_count=${COMPARE_IDLE_CONNECTIONS:-10000}
stream_bytes=${COMPARE_STREAM_BYTES:-1073741824}
out_dir=${COMPARE_OUT:-$bench/results}
install=${COMPARE_INSTALL:-1}
tracegate=${TRACEGATE:-$repo/build/tracegate}
test_upstream=${TEST_UPSTREAM:-$repo/build/tests/tracegate-test-upstream}
readonly startup_seconds=20

do_throughput=0 do_idle=0 do_stream=0
for arg in "$@"; do
    case $arg in
    --throughput) do_throughput=1 ;;
    --idle) do_idle=1 ;;
    --stream) do_stream=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "compare: unknown argument $arg (try --help)" >&2
        exit 2
        ;;
    esac
done
if [ $((do_throughput + do_idle + do_stream)) -eq 0 ]; then do_throughput=1 do_idle=1 do_stream=1; fi

say() { echo "compare: $*" >&2; }
fail() {
    say "$*"
    exit 1
}

# ---------------------------------------------------------------- process bookkeeping
pids=()          # every long-running child, stopped at exit
declare -A PID   # name -> main pid
declare -A PORT  # name -> listening port
declare -A ADMIN # tracegate name -> admin port
workdir=""
policy_rc_created=""

# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    local deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$policy_rc_created" ]; then rm -f "$policy_rc_created"; fi
    if [ "$status" -ne 0 ] && [ -n "$workdir" ]; then
        show_log_tails 15 "$workdir"/*.log "$workdir"/*.err
    fi
    if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command in the background, remembered for cleanup; sets LAST_PID.
spawn() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    LAST_PID=$!
    pids+=("$LAST_PID")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 answers HTTP (any status) while pid $2 lives.
wait_http() {
    local port=$1 pid=$2 name=$3 deadline=$((SECONDS + startup_seconds))
    until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; do
        kill -0 "$pid" 2>/dev/null || fail "$name exited during startup"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name does not answer on port $port after ${startup_seconds}s"
        sleep 0.1
    done
}

# Waits for a line matching sed expression $2 in log $1; prints the captured port.
log_port() {
    local log=$1 expr=$2 pid=$3 name=$4 port="" deadline=$((SECONDS + startup_seconds))
    while :; do
        port=$(sed -n "$expr" "$log" | head -n 1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || fail "$name exited during startup"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name printed no port in ${startup_seconds}s"
        sleep 0.05
    done
}

# The pid and its descendants (nginx master + workers; HAProxy and tracegate are one process).
proc_tree() {
    local pid=$1 child
    [ -d "/proc/$pid" ] || return 0
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do proc_tree "$child"; done
}

# Sum of utime+stime in clock ticks over the processes of $1 (a name in PID).
cpu_ticks() {
    local total=0 p t
    for p in $(proc_tree "${PID[$1]}"); do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || t=0
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

# Sum of a /proc/PID/status field (VmHWM, VmRSS) in KiB over the processes of $1.
mem_kib() {
    local name=$1 field=$2 total=0 p v
    for p in $(proc_tree "${PID[$name]}"); do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null) || v=0
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

sink_count() { # prints "spans requests bytes errors dd_header_traces" of the sink named $1
    curl -s --max-time 5 "http://127.0.0.1:${PORT[$1]}/count" | tr ' ' '\n' | sed -n 's/^[a-z_]*=//p' | tr '\n' ' '
    echo
}

# ---------------------------------------------------------------- peers
have_ot_plugin() {
    dd_plugin=$(find /usr/lib /usr/local/lib -name libdd_opentracing_plugin.so 2>/dev/null | head -n 1)
    [ -n "$dd_plugin" ]
}

install_missing() {
    local want=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || want+=(nginx)
    command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || want+=(haproxy)
    have_ot_plugin || want+=(libdd-opentracing0)
    command -v wrk >/dev/null 2>&1 || want+=(wrk)
    command -v curl >/dev/null 2>&1 || want+=(curl)
    [ "${#want[@]}" -gt 0 ] || return 0
    if [ "$install" != 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "missing: ${want[*]} (not installing: needs root, apt-get and COMPARE_INSTALL=1); those configurations are skipped"
        return 0
    fi
    say "installing ${want[*]} with apt-get"
    # Debian's nginx/haproxy packages start their system service on install; a temporary
    # policy-rc.d (removed again at once, and at exit) keeps them from starting.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_rc_created=/usr/sbin/policy-rc.d
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${want[@]}" >"${TMPDIR:-/tmp}/compare-apt.$$.log" 2>&1; then
        apt-get update >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${want[@]}" >>"${TMPDIR:-/tmp}/compare-apt.$$.log" 2>&1 ||
            say "apt-get install failed (see ${TMPDIR:-/tmp}/compare-apt.$$.log); missing peers are skipped"
    fi
    if [ -n "$policy_rc_created" ]; then
        rm -f "$policy_rc_created"
        policy_rc_created=""
    fi
}

install_missing
export PATH="$PATH:/usr/sbin:/sbin"
command -v wrk >/dev/null 2>&1 || fail "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null 2>&1 || fail "curl is not installed"
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
command -v nginx >/dev/null 2>&1 || fail "nginx is not installed: it is the upstream of every configuration (apt-get install nginx)"
[ -x "$tracegate" ] || fail "$tracegate not found: build it first (cmake --build build --target tracegate)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tracegate-compare.XXXXXX")
chmod 755 "$workdir"
mkdir -p "$out_dir"
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user root;"
nofile=$(ulimit -n)
# HAProxy reserves two descriptors per connection and will not start unless it can.
haproxy_maxconn=$(((nofile - 200) / 2))

# ---------------------------------------------------------------- starters
nginx_common() { # $1 name, $2 worker_processes
    cat <<EOF
$nginx_user
worker_processes $2;
worker_rlimit_nofile $nofile;
pid $workdir/$1.pid;
error_log $workdir/$1.err warn;
events { worker_connections $nofile; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path $workdir/$1-tmp/body;
    proxy_temp_path $workdir/$1-tmp/proxy;
    fastcgi_temp_path $workdir/$1-tmp/fastcgi;
    uwsgi_temp_path $workdir/$1-tmp/uwsgi;
    scgi_temp_path $workdir/$1-tmp/scgi;
EOF
}

start_nginx() { # $1 name, $2 port, then the config body (server blocks) on stdin
    local name=$1 port=$2
    mkdir -p "$workdir/$name-tmp"
    { nginx_common "$name" "${3:-$workers}"; cat; echo "}"; } >"$workdir/$name.conf"
    spawn "$workdir/$name.log" nginx -e "$workdir/$name.err" -p "$workdir/$name-tmp" -c "$workdir/$name.conf" -g 'daemon off;'
    PID[$name]=$LAST_PID
    PORT[$name]=$port
    wait_http "$port" "$LAST_PID" "$name"
}

start_upstream() {
    local port
    port=$(free_port)
    start_nginx upstream "$port" "$upstream_workers" <<EOF
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
    }
EOF
}

start_nginx_proxy() { # $1 name
    local port
    port=$(free_port)
    start_nginx "$1" "$port" <<EOF
    upstream up {
        server 127.0.0.1:${PORT[upstream]};
        keepalive 64;
        keepalive_requests 10000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
EOF
}

start_sink() { # $1 name
    spawn "$workdir/$1.log" python3 "$bench/compare_sink.py" "$workdir/$1.port"
    PID[$1]=$LAST_PID
    local deadline=$((SECONDS + startup_seconds))
    until [ -s "$workdir/$1.port" ]; do
        kill -0 "$LAST_PID" 2>/dev/null || fail "sink $1 exited during startup"
        [ "$SECONDS" -lt "$deadline" ] || fail "sink $1 did not start"
        sleep 0.05
    done
    PORT[$1]=$(cat "$workdir/$1.port")
}

start_haproxy() { # $1 name, $2 "ot" for the OpenTracing filter
    local name=$1 port filter=""
    port=$(free_port)
    if [ "${2:-}" = ot ]; then
        start_sink "$name-sink"
        cat >"$workdir/$name-dd.json" <<EOF
{
    "service": "haproxy-bench",
    "agent_host": "127.0.0.1",
    "agent_port": ${PORT[$name-sink]}
}
EOF
        # One span per request: opened when the request is parsed, finished with the
        # response; its context is injected into the request sent upstream.
        cat >"$workdir/$name-ot.cfg" <<EOF
[bench]
    ot-tracer bench-tracer
        config $workdir/$name-dd.json
        plugin $dd_plugin
        option dontlog-normal
        option hard-errors
        rate-limit 100.0
        scopes frontend_http_request
        scopes http_response

    ot-scope frontend_http_request
        span "HAProxy request" root
            tag "http.method" method
            tag "http.url" url
            inject "ot_ctx" use-headers
        event on-frontend-http-request

    ot-scope http_response
        span "HAProxy request"
            tag "http.status_code" status
        finish "HAProxy request"
        event on-http-response
EOF
        filter="    filter opentracing id bench config $workdir/$name-ot.cfg"
    fi
    cat >"$workdir/$name.cfg" <<EOF
global
    nbthread $workers
    maxconn $haproxy_maxconn
    pidfile $workdir/$name.pid
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
frontend fe
    bind 127.0.0.1:$port
$filter
    default_backend be
backend be
    server up 127.0.0.1:${PORT[upstream]}
EOF
    # The OT filter resolves the plugin path against the working directory, even an absolute one.
    # shellcheck disable=SC2016  # $1 expands in the sh -c script
    spawn "$workdir/$name.log" sh -c 'cd / && exec haproxy -db -f "$1"' haproxy "$workdir/$name.cfg"
    PID[$name]=$LAST_PID
    PORT[$name]=$port
    wait_http "$port" "$LAST_PID" "$name"
}

start_tracegate() { # $1 name, $2 off|otlp|store, $3 upstream host:port (default: the nginx upstream)
    local name=$1 mode=$2 up=${3:-127.0.0.1:${PORT[upstream]}} tracing
    case $mode in
    off) tracing="tracing: {sampling: {ratio: 0}}" ;;
    store) tracing="tracing: {sampling: {ratio: 1}}" ;;
    otlp)
        start_sink "$name-sink"
        tracing="tracing:
  sampling: {ratio: 1}
  exporters:
    - {type: otlp, endpoint: 'http://127.0.0.1:${PORT[$name-sink]}/v1/traces', encoding: protobuf}"
        ;;
    esac
    cat >"$workdir/$name.yaml" <<EOF
service_name: bench
workers: $workers
listeners:
  - name: bench
    address: 127.0.0.1:0
upstreams:
  - name: upstream
    endpoints: [$up]
limits: {max_connections: $nofile}
admin: {address: 127.0.0.1:0}
$tracing
EOF
    spawn "$workdir/$name.log" "$tracegate" --config "$workdir/$name.yaml"
    PID[$name]=$LAST_PID
    PORT[$name]=$(log_port "$workdir/$name.log" 's/.*listener bench listening on .*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$LAST_PID" "$name")
    ADMIN[$name]=$(log_port "$workdir/$name.log" 's/.*admin listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$LAST_PID" "$name")
    wait_http "${PORT[$name]}" "$LAST_PID" "$name"
}

tg_metric() { # $1 name, $2 metric name prefix: sum of the values of matching series
    curl -s --max-time 5 "http://127.0.0.1:${ADMIN[$1]}/metrics" |
        awk -v m="$2" 'index($1, m) == 1 && $1 !~ /^#/ { s += $NF } END { printf "%d", s }'
}

label_of() {
    case $1 in
    direct) echo "direct (upstream nginx)" ;;
    nginx) echo "nginx $(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p') proxy" ;;
    haproxy) echo "HAProxy $(haproxy -v 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p') proxy" ;;
    haproxy-ot) echo "HAProxy + OT/Datadog 100%" ;;
    tg-off) echo "tracegate, tracing off" ;;
    tg-otlp) echo "tracegate 100%, OTLP" ;;
    tg-store) echo "tracegate 100%, store" ;;
    *) echo "$1" ;;
    esac
}

# ---------------------------------------------------------------- wrk

# run_wrk URL OUTFILE [extra wrk args]; sets WRK_RESULT to "rps p50_ms p99_ms requests errors".
run_wrk() {
    local url=$1 out=$2
    shift 2
    wrk --latency "$@" "$url" >"$out" 2>&1 &
    local wpid=$!
    pids+=("$wpid")
    wait "$wpid" || true
    local rps p50 p99 requests socket_errors non2xx
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    requests=$(awk '/ requests in / { print $1 }' "$out")
    if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ] || [ -z "$requests" ]; then
        say "could not read wrk's output for $url:"
        cat "$out" >&2
        WRK_RESULT="0 0 0 0 1"
        return 0
    fi
    socket_errors=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    WRK_RESULT="$rps $(to_ms "$p50") $(to_ms "$p99") $requests $((${socket_errors:-0} + ${non2xx:-0}))"
}

seconds_of() { # wrk duration (10s, 1m) -> seconds
    awk -v t="$1" 'BEGIN { n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        if (u == "m") n *= 60; else if (u == "h") n *= 3600; printf "%d", n }'
}

clk_tck=$(getconf CLK_TCK)
started=$SECONDS
reserve=0
[ "$do_idle" = 1 ] && reserve=$((reserve + 45))
[ "$do_stream" = 1 ] && reserve=$((reserve + 30))

{
    echo "Machine: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Command: \`COMPARE_DURATION=$duration COMPARE_ROUNDS=$rounds COMPARE_CONNECTIONS=$connections tests/bench/compare.sh\`;"
    echo "wrk $threads threads, $connections connections, $duration per run at saturation; light load: $light_connections connections paced to ~$light_rate req/s in total (paced.lua), $light_duration per run."
    echo "Every proxy has $workers workers; the upstream is nginx ($upstream_workers workers) answering \`200 ok\`. wrk, proxy, upstream and sink share the machine's cores."
    echo "CPU µs/req: user+sys of the proxy's processes (all nginx workers, the whole HAProxy / tracegate process) during a saturation run / requests; for direct, the upstream's. Peak RSS: VmHWM summed over those processes over the whole run."
    echo "spans/req: spans the loopback sink decoded / requests wrk completed (tracegate reports a SERVER and a CLIENT span per request, so 2.000 is complete; HAProxy's config has one span per request)."
} >"$workdir/header.md"
: >"$workdir/runs.tsv"
: >"$workdir/configs.tsv"
: >"$workdir/extra.md"

# ---------------------------------------------------------------- throughput
if [ "$do_throughput" = 1 ]; then
    say "starting the upstream nginx and the configurations under $workdir"
    start_upstream
    active=()
    declare -A NOTE
    for c in $config_list; do
        case $c in
        direct) PID[direct]=${PID[upstream]} PORT[direct]=${PORT[upstream]} ;;
        nginx) start_nginx_proxy nginx ;;
        haproxy | haproxy-ot)
            if ! command -v haproxy >/dev/null 2>&1; then
                NOTE[$c]="haproxy is not installed"
                say "skipping $c: ${NOTE[$c]}"
                continue
            fi
            if [ "$c" = haproxy-ot ]; then
                if ! have_ot_plugin; then
                    NOTE[$c]="the Datadog OpenTracing plugin (libdd-opentracing0) is not installed"
                    say "skipping $c: ${NOTE[$c]}"
                    continue
                fi
                if ! haproxy -vv 2>/dev/null | grep -q "Built with OpenTracing support"; then
                    NOTE[$c]="this haproxy is built without OpenTracing support"
                    say "skipping $c: ${NOTE[$c]}"
                    continue
                fi
                start_haproxy "$c" ot
            else
                start_haproxy "$c"
            fi
            ;;
        tg-off) start_tracegate tg-off off ;;
        tg-otlp) start_tracegate tg-otlp otlp ;;
        tg-store) start_tracegate tg-store store ;;
        *) fail "unknown configuration $c in COMPARE_CONFIGS" ;;
        esac
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORT[$c]}/") || code=000
        if [ "$code" != 200 ]; then
            NOTE[$c]="GET / answered $code, expected 200"
            say "skipping $c: ${NOTE[$c]}"
            continue
        fi
        active+=("$c")
    done
    if command -v caddy >/dev/null 2>&1 && caddy list-modules 2>/dev/null | grep -q '^http.handlers.tracing$'; then
        say "note: a Caddy with the tracing module is installed, but compare.sh has no Caddy configuration yet"
    fi

    sat_s=$(seconds_of "$duration")
    light_s=$(seconds_of "$light_duration")
    per_run=$((sat_s + light_s + 2))
    pace_ms=$((light_connections * 1000 / light_rate))
    [ "$pace_ms" -ge 1 ] || pace_ms=1
    export PACE_DELAY_MS=$pace_ms
    light_threads=$((threads < light_connections ? threads : light_connections))
    say "wrk: $duration x $connections connections at saturation, $light_duration x $light_connections connections paced at ${pace_ms} ms per request per connection; ${#active[@]} configurations x $rounds rounds (~$((per_run * ${#active[@]} * rounds))s; budget ${budget}s)"

    for ((round = 1; round <= rounds; round++)); do
        # Rotate the order each round so no configuration always follows the same one.
        n=${#active[@]}
        for ((i = 0; i < n; i++)); do
            c=${active[$(((i + round - 1) % n))]}
            if [ "$round" -gt 1 ] && [ $((SECONDS - started + per_run + reserve)) -gt "$budget" ]; then
                say "time budget (${budget}s) reached: stopping after $((round - 1)) full round(s)"
                break 2
            fi
            url="http://127.0.0.1:${PORT[$c]}/"
            t0=$(cpu_ticks "$c")
            run_wrk "$url" "$workdir/wrk-$c-$round-sat.txt" -d "$duration" -c "$connections" -t "$threads"
            read -r rps p50 p99 reqs errs <<<"$WRK_RESULT"
            t1=$(cpu_ticks "$c")
            cpu_s=$(awk -v a="$t0" -v b="$t1" -v hz="$clk_tck" 'BEGIN { printf "%.4f", (b - a) / hz }')
            printf '%s\t%d\tsat\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$round" "$rps" "$p50" "$p99" "$reqs" "$cpu_s" "$errs" >>"$workdir/runs.tsv"
            say "round $round $c: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, $(awk -v c="$cpu_s" -v r="$reqs" 'BEGIN { printf "%.1f", r ? c * 1e6 / r : 0 }') CPU µs/req, errors $errs"
            run_wrk "$url" "$workdir/wrk-$c-$round-light.txt" -s "$bench/paced.lua" -d "$light_duration" -c "$light_connections" -t "$light_threads"
            read -r lrps lp50 lp99 lreqs lerrs <<<"$WRK_RESULT"
            printf '%s\t%d\tlight\t%s\t%s\t%s\t%s\t0\t%s\n' "$c" "$round" "$lrps" "$lp50" "$lp99" "$lreqs" "$lerrs" >>"$workdir/runs.tsv"
            say "round $round $c light: $lrps req/s, p50 ${lp50} ms, p99 ${lp99} ms"
        done
    done

    sleep 3 # the tracers flush at least once a second
    for c in $config_list; do
        if [[ " ${active[*]} " != *" $c "* ]]; then
            printf '%s\t%s\t-\t-\t%s\n' "$c" "$(label_of "$c")" "${NOTE[$c]:-not measured}" >>"$workdir/configs.tsv"
            continue
        fi
        rss=$(mem_kib "$c" VmHWM)
        spans="-" note=""
        case $c in
        direct) note="CPU and RSS are the upstream nginx's own" ;;
        haproxy-ot | tg-otlp)
            read -r spans sreq sbytes serr shdr < <(sink_count "$c-sink")
            note="sink: $spans spans in $sreq export requests, $((sbytes / 1024)) KiB, $serr undecodable"
            [ "$c" = haproxy-ot ] && note="$note, X-Datadog-Trace-Count total $shdr"
            ;;
        esac
        case $c in
        tg-*)
            dropped=$(tg_metric "$c" tracegate_spans_dropped_total)
            exported=$(tg_metric "$c" tracegate_spans_exported_total)
            note="${note:+$note; }tracegate metrics: $exported spans exported, $dropped dropped"
            ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$(label_of "$c")" "$rss" "$spans" "$note" >>"$workdir/configs.tsv"
    done
    for c in "${active[@]}"; do
        [ "$c" = direct ] || [ "$c" = upstream ] || kill -TERM "${PID[$c]}" 2>/dev/null || true
    done
fi

# ---------------------------------------------------------------- idle connections
if [ "$do_idle" = 1 ]; then
    if [ -z "${PID[upstream]:-}" ] || ! kill -0 "${PID[upstream]}" 2>/dev/null; then start_upstream; fi
    {
        echo
        echo "**Idle keep-alive connections**: $idle_count client connections, one request each, then held open idle (compare_idle.py; RSS = VmRSS summed over the proxy's processes; fresh process per proxy)."
        echo
        echo "| Proxy | connections held | RSS before MiB | RSS with connections MiB | RSS per connection KiB |"
        echo "|---|--:|--:|--:|--:|"
    } >>"$workdir/extra.md"
    idle_targets="nginx-idle tg-idle"
    command -v haproxy >/dev/null 2>&1 && idle_targets="nginx-idle haproxy-idle tg-idle"
    for t in $idle_targets; do
        case $t in
        nginx-idle) start_nginx_proxy "$t" ;;
        haproxy-idle) start_haproxy "$t" ;;
        tg-idle) start_tracegate "$t" off ;;
        esac
        curl -s -o /dev/null "http://127.0.0.1:${PORT[$t]}/" || true
        idle_want=$idle_count
        if [ "$t" = haproxy-idle ] && [ "$idle_want" -gt $((haproxy_maxconn - 100)) ]; then
            idle_want=$((haproxy_maxconn - 100))
            say "HAProxy holds at most $haproxy_maxconn connections with $nofile descriptors: $idle_want idle connections for it"
        fi
        sleep 0.5
        before=$(mem_kib "$t" VmRSS)
        spawn "$workdir/$t-client.log" python3 "$bench/compare_idle.py" 127.0.0.1 "${PORT[$t]}" "$idle_want" 200
        client=$LAST_PID
        deadline=$((SECONDS + 60))
        until grep -q '^ready' "$workdir/$t-client.log"; do
            kill -0 "$client" 2>/dev/null || break
            [ "$SECONDS" -lt "$deadline" ] || break
            sleep 0.2
        done
        read -r _ held failed < <(grep '^ready' "$workdir/$t-client.log" || echo "ready 0 $idle_count")
        sleep 1
        with=$(mem_kib "$t" VmRSS)
        per=$(awk -v a="$before" -v b="$with" -v n="$held" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "–" }')
        say "idle $t: $held connections held ($failed failed), RSS $before -> $with KiB, $per KiB per connection"
        printf '| %s | %s%s | %.1f | %.1f | %s |\n' "$t" "$held" "$([ "${failed:-0}" != 0 ] && echo " ($failed failed)")" \
            "$(awk -v k="$before" 'BEGIN { print k / 1024 }')" "$(awk -v k="$with" 'BEGIN { print k / 1024 }')" "$per" >>"$workdir/extra.md"
        kill -TERM "$client" 2>/dev/null || true
        wait "$client" 2>/dev/null || true
        kill -TERM "${PID[$t]}" 2>/dev/null || true
        wait "${PID[$t]}" 2>/dev/null || true
    done
fi

# ---------------------------------------------------------------- streamed body
if [ "$do_stream" = 1 ]; then
    if [ ! -x "$test_upstream" ]; then
        say "skipping the streamed body: $test_upstream not found"
        printf '\n**Streamed body**: skipped (%s not built).\n' "$test_upstream" >>"$workdir/extra.md"
    else
        spawn "$workdir/test-upstream.log" "$test_upstream" --listen 127.0.0.1:0
        PID[test-upstream]=$LAST_PID
        PORT[test-upstream]=$(log_port "$workdir/test-upstream.log" 's/.*listening on .*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$LAST_PID" "the test upstream")
        start_tracegate tg-stream store "127.0.0.1:${PORT[test-upstream]}"
        mib=$((stream_bytes / 1048576))
        {
            echo
            echo "**Streamed body**: $mib MiB through tracegate (100% sampling, store) from/to the test upstream (\`/bytes/N\` down, \`POST /sink\` up), curl on loopback; direct = straight to the test upstream."
            echo
            echo "| Transfer | MiB/s | seconds | tracegate RSS after MiB | tracegate peak RSS (VmHWM) MiB |"
            echo "|---|--:|--:|--:|--:|"
        } >>"$workdir/extra.md"
        hwm0=$(mem_kib tg-stream VmHWM)
        for target in test-upstream tg-stream; do
            for dir in down up; do
                if [ "$dir" = down ]; then
                    r=$(curl -s -o /dev/null --max-time 300 -w '%{size_download} %{time_total}' "http://127.0.0.1:${PORT[$target]}/bytes/$stream_bytes") || r="0 0"
                else
                    r=$(head -c "$stream_bytes" /dev/zero | curl -s -o "$workdir/sink-answer" --max-time 300 -w '%{size_upload} %{time_total}' -X POST -H 'Content-Type: application/octet-stream' -T - "http://127.0.0.1:${PORT[$target]}/sink") || r="0 0"
                fi
                read -r size secs <<<"$r"
                rate=$(awk -v s="$size" -v t="$secs" 'BEGIN { if (t > 0) printf "%.0f", s / 1048576 / t; else print "–" }')
                label="direct $dir"
                rss="–" hwm="–"
                if [ "$target" = tg-stream ]; then
                    label="tracegate $dir"
                    rss=$(awk -v k="$(mem_kib tg-stream VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')
                    hwm=$(awk -v k="$(mem_kib tg-stream VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')
                fi
                [ "${size%.*}" -ge "$stream_bytes" ] 2>/dev/null || label="$label (incomplete: ${size} bytes)"
                say "stream $label: $rate MiB/s in ${secs}s, RSS $rss MiB, peak $hwm MiB"
                printf '| %s | %s | %s | %s | %s |\n' "$label" "$rate" "$secs" "$rss" "$hwm" >>"$workdir/extra.md"
            done
        done
        echo "" >>"$workdir/extra.md"
        echo "tracegate peak RSS before the transfers: $(awk -v k="$hwm0" 'BEGIN { printf "%.1f", k / 1024 }') MiB." >>"$workdir/extra.md"
    fi
fi

# ---------------------------------------------------------------- report
echo "" >>"$workdir/extra.md"
echo "Total time: $((SECONDS - started)) s." >>"$workdir/extra.md"
echo
python3 "$bench/compare_report.py" "$workdir" "$out_dir/compare.md" "$out_dir/compare.svg"
say "wrote $out_dir/compare.md and $out_dir/compare.svg"
