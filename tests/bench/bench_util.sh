# Shared by the scripts of tests/bench (sourced, not run): wrk output and logs.

# Converts a wrk duration ("812.00us", "1.25ms", "2.00s", "1.00m") to milliseconds.
to_ms() {
    awk -v t="$1" 'BEGIN {
        n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000
        else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        printf "%.3f", n
    }'
}

# Prints the last $1 lines of each non-empty file among the rest of the arguments, to stderr.
show_log_tails() {
    local lines=$1 f
    shift
    for f in "$@"; do
        [ -s "$f" ] || continue
        echo "---- last lines of $(basename "$f") ----" >&2
        tail -n "$lines" "$f" >&2
    done
}
