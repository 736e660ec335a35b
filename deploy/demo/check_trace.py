#!/usr/bin/env python3
"""Waits for a whole TaskQueue.Stats trace of the demo in tracegate's trace store.

    check_trace.py [--admin http://127.0.0.1:9901] [--timeout 30]

Polls GET /api/traces for traces rooted at a TaskQueue.Stats server span, fetches each
with GET /api/traces/{id}, and succeeds (exit 0, the trace printed as a tree) when one
holds the server spans of all five services nested as in the demo: TaskQueue.Auth, two
QueueService calls, System.Stats and Graphviz.Render, all descendants of the root.
Exit 1, saying what is missing, when none does before the deadline.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request

ROOT = "TaskQueue.Stats"
# service -> number of SERVER spans expected below the root, per request.
EXPECTED = {"TaskQueue.Auth": 1, "QueueService": 2, "System.Stats": 1, "Graphviz.Render": 1}
PARALLEL = ("QueueService", "System.Stats")

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url):
    with _opener.open(url, timeout=5) as response:
        return json.loads(response.read())


def problems_of(trace):
    """What keeps `trace` (GET /api/traces/{id}) from being a whole demo trace; [] if nothing."""
    spans = {s["spanId"]: s for s in trace.get("spans", [])}
    roots = [s for s in spans.values() if not s.get("parentSpanId")]
    if len(roots) != 1:
        return [f"{len(roots)} root spans, expected 1"]
    root = roots[0]
    if (root["name"], root["service"], root["kind"]) != (ROOT, ROOT, "SERVER"):
        return [f"root span is {root['kind']} {root['name']!r} of {root['service']!r}, "
                f"expected SERVER {ROOT!r} of {ROOT!r}"]

    def under_root(span):
        seen = set()
        while span.get("parentSpanId"):
            if span["spanId"] in seen:
                return False
            seen.add(span["spanId"])
            span = spans.get(span["parentSpanId"])
            if span is None:
                return False
        return span is root

    problems = []
    for service, want in EXPECTED.items():
        servers = [s for s in spans.values() if s["service"] == service and s["kind"] == "SERVER"]
        nested = [s for s in servers if under_root(s)]
        if len(nested) != want:
            problems.append(f"{service}: {len(nested)} SERVER span(s) below the root, expected "
                            f"{want}" + (f" ({len(servers)} in the trace)" if servers else ""))
    orphans = [s for s in spans.values() if s is not root and not under_root(s)]
    if orphans:
        problems.append(f"{len(orphans)} span(s) not connected to the root (parents not arrived?)")
    errors = [s for s in spans.values() if s.get("status", {}).get("code") == "ERROR"]
    if errors:
        problems.append("spans with status ERROR: " + ", ".join(s["name"] for s in errors))
    return problems


def print_tree(trace, out):
    spans = trace["spans"]
    children = {}
    for s in spans:
        children.setdefault(s.get("parentSpanId") or "", []).append(s)
    t0 = min(int(s["startTimeUnixNano"]) for s in spans)

    def show(span, depth):
        start = (int(span["startTimeUnixNano"]) - t0) / 1e6
        ms = int(span["durationNanos"]) / 1e6
        label = f"{'  ' * depth}{span['name']}"
        if span["kind"] == "SERVER":
            label += f"  [{span['service']}]"
        else:
            label += f"  ({span['kind'].lower()})"
        out.write(f"  {label:<56} at {start:6.1f} ms, took {ms:6.1f} ms\n")
        for child in children.get(span["spanId"], []):
            show(child, depth + 1)

    for root in children.get("", []):
        show(root, 0)


def overlapping(trace):
    """Whether the QueueService and System.Stats server spans ran at the same time."""
    spans = [s for s in trace["spans"] if s["kind"] == "SERVER" and s["service"] in PARALLEL]
    if len(spans) < 2:
        return False
    latest_start = max(int(s["startTimeUnixNano"]) for s in spans)
    earliest_end = min(int(s["endTimeUnixNano"]) for s in spans)
    return latest_start < earliest_end


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin", default="http://127.0.0.1:9901")
    parser.add_argument("--timeout", type=float, default=30, help="seconds (default 30)")
    args = parser.parse_args()
    admin = args.admin.rstrip("/")

    deadline = time.monotonic() + args.timeout
    last = "no trace rooted at TaskQueue.Stats yet"
    while True:
        try:
            listing = get_json(f"{admin}/api/traces?service={ROOT}&limit=100")
            candidates = [t for t in listing.get("traces", [])
                          if t.get("rootName") == ROOT and t.get("rootService") == ROOT]
            if candidates:
                last = None
            for summary in candidates:
                trace = get_json(f"{admin}/api/traces/{summary['traceId']}")
                problems = problems_of(trace)
                if not problems:
                    print(f"trace {summary['traceId']}: {len(trace['spans'])} spans, all five "
                          f"services nested under {ROOT}"
                          + ("; QueueService and System.Stats ran in parallel"
                             if overlapping(trace) else ""))
                    print_tree(trace, sys.stdout)
                    return 0
                if last is None:
                    last = f"trace {summary['traceId']}: " + "; ".join(problems)
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as e:
            last = f"GET {admin}/api/traces failed: {e}"
        if time.monotonic() >= deadline:
            print(f"no whole demo trace in {args.timeout:g}s; last seen: {last}", file=sys.stderr)
            return 1
        time.sleep(0.25)


if __name__ == "__main__":
    sys.exit(main())
