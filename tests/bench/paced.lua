-- wrk script for compare.sh's "light load" runs: every connection waits PACE_DELAY_MS
-- milliseconds before each request (wrk's delay() hook), so the offered rate is about
-- connections * 1000 / (PACE_DELAY_MS + latency) requests/s, far below saturation.
-- wrk starts a request's latency clock when the request is written, after the delay.
local pace = tonumber(os.getenv("PACE_DELAY_MS") or "10")

function delay()
    return pace
end
