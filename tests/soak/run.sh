#!/usr/bin/env bash
# tests/soak/run.sh: a bounded soak of a real tracegate on loopback (see soak.py for what runs
# and what passes). Needs only bash, python3 (standard library) and openssl; builds nothing.
#
#   tests/soak/run.sh                      # 180 s of traffic against build/tracegate
#   SOAK_SECONDS=45 tests/soak/run.sh      # the short form CI runs
#
# Environment:
#   SOAK_SECONDS   seconds of traffic (default 180); the whole run takes about 20-60 s more
#                  (settling, drain, export flush)
#   TRACEGATE      the binary (default build/tracegate of this checkout)
#   SOAK_SKIP      comma-separated kinds to leave out, e.g. trailer_100k,trailer_bomb when a
#                  known crash would end the run early (kinds: soak.py BAD_CLIENT_KINDS and
#                  BAD_UPSTREAMS)
#   SOAK_KEEP=1    keep the work directory (config, tracegate.log, summary.txt, failures.json)
#                  also when the soak passes; it is always kept when it fails
# Exit status: 0 pass, 1 a pass criterion failed, 2 the soak could not run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
TRACEGATE=${TRACEGATE:-$root/build/tracegate}
SOAK_SECONDS=${SOAK_SECONDS:-180}

if [[ ! -x $TRACEGATE ]]; then
    echo "soak: no tracegate binary at $TRACEGATE (build it first, or set TRACEGATE)" >&2
    exit 2
fi
if ! [[ $SOAK_SECONDS =~ ^[0-9]+$ ]] || (( SOAK_SECONDS < 10 )); then
    echo "soak: SOAK_SECONDS must be a whole number of seconds, at least 10" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "soak: python3 is required" >&2; exit 2; }
command -v openssl >/dev/null || { echo "soak: openssl is required" >&2; exit 2; }

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tracegate-soak.XXXXXX")
driver=""
rc=2

cleanup() {
    trap - EXIT INT TERM
    # The driver stops its children itself; they also die with it (PR_SET_PDEATHSIG). This is
    # the backstop for an interrupted run: only the pids this soak started, never by name.
    if [[ -n $driver ]] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$driver" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$driver" 2>/dev/null
    fi
    if [[ -f $workdir/pids ]]; then
        while read -r pid; do
            [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
        done <"$workdir/pids"
    fi
    if (( rc == 0 )) && [[ ${SOAK_KEEP:-0} != 1 ]]; then
        rm -rf "$workdir"
    else
        echo "soak: work directory kept: $workdir (tracegate.log, summary.txt, failures.json)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'rc=130; exit' INT TERM

# A throwaway self-signed certificate for the TLS listener (and the clients' trust anchor).
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$workdir/key.pem" -out "$workdir/cert.pem" >"$workdir/openssl.log" 2>&1; then
    cat "$workdir/openssl.log" >&2
    exit 2
fi

started=$(date +%s)
# The driver bounds itself; `timeout` is the last resort if it ever hangs.
timeout -k 10 $((SOAK_SECONDS + 240)) \
    python3 "$here/soak.py" run --tracegate "$TRACEGATE" --workdir "$workdir" --seconds "$SOAK_SECONDS" &
driver=$!
wait "$driver"
rc=$?
driver=""
echo "soak: finished in $(( $(date +%s) - started )) s, exit status $rc"
